//! `tps validate`: checks tenant records without writing them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;
use tps_core::validate::FieldError;
use tps_core::{DatasetCatalogue, TenantRecord};

use crate::input::{self, Format, Record};
use crate::output::{exit, print_json, OutputFormat};

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Tenant record files. Each contains one record, a JSON list of
    /// records, the output of `aws dynamodb get-item`, `query` or `scan`
    /// ({"Item": ...} or {"Items": [...]}), or JSON Lines with one record
    /// or {"Item": ...} per line, as a DynamoDB export to S3 writes them.
    /// Records may be plain JSON or DynamoDB JSON
    /// ({"customerId": {"S": "..."}}). `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub catalogue: CatalogueArg,
}

#[derive(Args, Debug, Clone)]
pub struct CatalogueArg {
    /// Marketing Stream dataset catalogue (JSON) that streamDatasets are
    /// checked against. Default: the catalogue built into tps.
    #[arg(long, env = "TPS_DATASET_CATALOGUE", value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
}

impl CatalogueArg {
    pub fn load(&self) -> anyhow::Result<DatasetCatalogue> {
        match &self.catalogue {
            None => Ok(DatasetCatalogue::embedded()),
            Some(path) => DatasetCatalogue::load(Some(&path.display().to_string()))
                .map_err(|error| anyhow!("{error}; pass --catalogue with a valid catalogue file, or omit it to use the built-in one")),
        }
    }
}

/// The result of validating one record.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub source: String,
    pub format: Format,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub valid: bool,
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    pub record: Option<TenantRecord>,
}

/// Validates one record read from a file.
pub fn check(record: &Record, catalogue: &DatasetCatalogue) -> Report {
    let (tenant_id, outcome) = match &record.row {
        Ok(row) => (
            row.get("customerId").and_then(|v| v.as_str()).map(str::to_string),
            tps_core::validate(row, catalogue).map_err(|errors| errors.0),
        ),
        Err(reason) => (None, Err(vec![FieldError { path: "$".to_string(), message: reason.clone() }])),
    };
    match outcome {
        Ok(tenant) => Report {
            source: record.label.clone(),
            format: record.format,
            tenant_id,
            valid: true,
            errors: Vec::new(),
            record: Some(tenant),
        },
        Err(errors) => Report { source: record.label.clone(), format: record.format, tenant_id, valid: false, errors, record: None },
    }
}

/// Renders the one-line verdict of a report, followed by one line per error.
pub fn render(report: &Report) -> String {
    let format = match report.format {
        Format::Json => "",
        Format::Dynamodb => " (DynamoDB JSON)",
    };
    let mut text = match &report.record {
        Some(tenant) => {
            let modules: Vec<String> = tenant.modules().iter().map(ToString::to_string).collect();
            format!("{}{format}: valid: tenant {}, modules {}\n", report.source, tenant.customer_id, modules.join(", "))
        }
        None => {
            let count = report.errors.len();
            let noun = if count == 1 { "error" } else { "errors" };
            format!("{}{format}: invalid: {count} {noun}\n", report.source)
        }
    };
    for error in &report.errors {
        text.push_str(&format!("  {error}\n"));
    }
    text
}

pub fn run(args: &ValidateArgs, output: OutputFormat) -> anyhow::Result<ExitCode> {
    let catalogue = args.catalogue.load()?;
    let mut reports = Vec::new();
    let mut unreadable = 0;
    for path in &args.files {
        match input::read_records(path) {
            Ok(records) => reports.extend(records.iter().map(|record| check(record, &catalogue))),
            Err(error) => {
                eprintln!("error: {error:#}");
                unreadable += 1;
            }
        }
    }

    match output {
        OutputFormat::Json => print_json(&reports)?,
        OutputFormat::Text => {
            for report in &reports {
                print!("{}", render(report));
            }
            if reports.len() > 1 {
                let valid = reports.iter().filter(|r| r.valid).count();
                println!("{valid} of {} records valid", reports.len());
            }
        }
    }

    let code = if unreadable > 0 {
        exit::USAGE
    } else if reports.iter().any(|r| !r.valid) {
        exit::FAILURE
    } else {
        exit::SUCCESS
    };
    Ok(ExitCode::from(code))
}

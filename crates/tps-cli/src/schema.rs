//! `tps schema`: the JSON Schema of the tenant record, and the field
//! reference of `docs/tenant-record.md` rendered from that schema and the
//! dataset catalogue.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use schemars::schema::{InstanceType, RootSchema, Schema, SchemaObject, SingleOrVec};
use tps_core::catalogue::{AdvertisingRegion, DatasetCatalogue};
use tps_core::module::Module;
use tps_core::TenantRecord;

use crate::output::print_json;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Output format: the JSON Schema (draft-07) for editors and validators,
    /// or the Markdown field reference that docs/tenant-record.md embeds.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Json)]
    pub format: SchemaFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    /// The JSON Schema of the tenant record.
    Json,
    /// Markdown tables of every field, rendered from the JSON Schema, and the
    /// datasets of the embedded catalogue.
    Markdown,
}

pub fn run(args: &SchemaArgs) -> anyhow::Result<ExitCode> {
    match args.format {
        SchemaFormat::Json => print_json(&tenant_schema())?,
        SchemaFormat::Markdown => print!("{}", reference(&tenant_schema(), &DatasetCatalogue::embedded())),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn tenant_schema() -> RootSchema {
    schemars::schema_for!(TenantRecord)
}

/// Renders the field reference: a table of the top-level fields, a section
/// per module with its table, and the datasets each advertising region
/// offers. The text comes from the schema's descriptions.
pub fn reference(root: &RootSchema, catalogue: &DatasetCatalogue) -> String {
    let mut out = String::new();

    out.push_str("## Top-level fields\n\n");
    object_table(&mut out, root, &root.schema);

    for (name, property) in properties(&root.schema) {
        let Some((definition, _)) = definition_of(root, property) else { continue };
        if !is_object(definition) {
            continue;
        }
        let _ = write!(out, "\n## {name}\n\n");
        if let Some(description) = description(definition) {
            let _ = write!(out, "{description}\n\n");
        }
        object_table(&mut out, root, definition);
    }

    out.push_str("\n## Marketing Stream datasets\n\n");
    out.push_str(
        "The dataset ids a `streamDatasets` entry may name, from the embedded dataset catalogue \
         (`catalogue/marketing-stream-datasets.json`). The module functions read the file named by the \
         setting `TPS_DATASET_CATALOGUE` instead when it is set. The queues are created in the AWS region \
         that Marketing Stream delivers from.\n\n",
    );
    out.push_str("| advertising region | AWS region | SponsoredAds datasets | DSP datasets |\n|---|---|---|---|\n");
    for region in AdvertisingRegion::ALL {
        let aws_region = catalogue.regions.get(&region).map_or("-", |r| r.aws_region.as_str());
        let _ = writeln!(
            out,
            "| `{region}` | `{aws_region}` | {} | {} |",
            code_list(&catalogue.dataset_ids(region, Module::SponsoredAds)),
            code_list(&catalogue.dataset_ids(region, Module::Dsp)),
        );
    }
    out
}

/// Writes the table of `object`'s properties, then the meaning of each
/// value of its enumerated fields.
fn object_table(out: &mut String, root: &RootSchema, object: &SchemaObject) {
    let required = object.object.as_ref().map(|o| o.required.clone()).unwrap_or_default();
    let mut value_notes = Vec::new();

    out.push_str("| field | type | required | rule |\n|---|---|---|---|\n");
    for (name, property) in properties(object) {
        let definition = definition_of(root, property);
        let resolved = definition.map_or(property, |(d, _)| d);
        let variants = enum_variants(resolved);
        let kind = if !variants.is_empty() {
            let values: Vec<String> = variants.iter().map(|(value, _)| format!("`{value}`")).collect();
            join_or(&values)
        } else if is_object(resolved) {
            format!("object, see [{name}](#{})", name.to_lowercase())
        } else {
            type_name(resolved)
        };
        let mut rule = description(property).or_else(|| description(resolved)).unwrap_or_default().to_string();
        for constraint in constraints(resolved) {
            if !rule.is_empty() {
                rule.push(' ');
            }
            rule.push_str(&constraint);
        }
        let mark = if required.contains(name) { "yes" } else { "no" };
        let _ = writeln!(out, "| `{name}` | {kind} | {mark} | {} |", cell(&rule));

        if variants.iter().any(|(_, meaning)| meaning.is_some()) {
            value_notes.push((name.clone(), variants));
        }
    }

    for (name, variants) in value_notes {
        let _ = write!(out, "\nValues of `{name}`:\n\n");
        for (value, meaning) in variants {
            let _ = writeln!(out, "- `{value}`: {}", meaning.unwrap_or_default());
        }
    }
}

fn properties(object: &SchemaObject) -> Vec<(&String, &SchemaObject)> {
    let Some(validation) = object.object.as_ref() else { return Vec::new() };
    validation
        .properties
        .iter()
        .filter_map(|(name, schema)| match schema {
            Schema::Object(object) => Some((name, object)),
            Schema::Bool(_) => None,
        })
        .collect()
}

/// Finds the definition a property refers to, directly or as
/// `anyOf [ref, null]` (an optional field), and its name.
fn definition_of<'a>(root: &'a RootSchema, property: &'a SchemaObject) -> Option<(&'a SchemaObject, &'a str)> {
    let reference = property.reference.as_deref().or_else(|| {
        property.subschemas.as_ref()?.any_of.as_ref()?.iter().find_map(|schema| match schema {
            Schema::Object(object) => object.reference.as_deref(),
            Schema::Bool(_) => None,
        })
    })?;
    let name = reference.strip_prefix("#/definitions/")?;
    match root.definitions.get(name)? {
        Schema::Object(object) => Some((object, name)),
        Schema::Bool(_) => None,
    }
}

fn is_object(schema: &SchemaObject) -> bool {
    schema.object.as_ref().is_some_and(|o| !o.properties.is_empty())
}

fn description(schema: &SchemaObject) -> Option<&str> {
    schema.metadata.as_ref()?.description.as_deref()
}

/// Lists the values of a string enum and the description of each, from
/// `enum`, or from a `oneOf` of single-value enums when values have docs.
fn enum_variants(schema: &SchemaObject) -> Vec<(String, Option<String>)> {
    if let Some(values) = &schema.enum_values {
        return values.iter().filter_map(|v| v.as_str()).map(|v| (v.to_string(), None)).collect();
    }
    let Some(one_of) = schema.subschemas.as_ref().and_then(|s| s.one_of.as_ref()) else { return Vec::new() };
    one_of
        .iter()
        .filter_map(|variant| match variant {
            Schema::Object(object) => {
                let value = object.enum_values.as_ref()?.first()?.as_str()?.to_string();
                Some((value, description(object).map(str::to_string)))
            }
            Schema::Bool(_) => None,
        })
        .collect()
}

fn type_name(schema: &SchemaObject) -> String {
    let types: Vec<InstanceType> = match &schema.instance_type {
        Some(SingleOrVec::Single(single)) => vec![**single],
        Some(SingleOrVec::Vec(many)) => many.clone(),
        None => Vec::new(),
    };
    if types.contains(&InstanceType::Array) {
        let item = schema.array.as_ref().and_then(|a| a.items.as_ref()).and_then(|items| match items {
            SingleOrVec::Single(item) => match item.as_ref() {
                Schema::Object(object) => Some(type_name(object)),
                Schema::Bool(_) => None,
            },
            SingleOrVec::Vec(_) => None,
        });
        return format!("list of {}s", item.unwrap_or_else(|| "value".into()));
    }
    types
        .iter()
        .find(|t| **t != InstanceType::Null)
        .map_or_else(|| "any".into(), |t| format!("{t:?}").to_lowercase())
}

/// Lists the machine-checkable constraints as sentences: pattern, length
/// and number of entries.
fn constraints(schema: &SchemaObject) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(string) = &schema.string {
        if let Some(pattern) = &string.pattern {
            found.push(format!("Pattern: `{pattern}`."));
        }
        match (string.min_length, string.max_length) {
            (Some(min), Some(max)) => found.push(format!("Length: {min} to {max}.")),
            (None, Some(max)) => found.push(format!("Length: at most {max}.")),
            (Some(min), None) => found.push(format!("Length: at least {min}.")),
            (None, None) => {}
        }
    }
    if let Some(array) = &schema.array {
        if let (Some(min), Some(max)) = (array.min_items, array.max_items) {
            found.push(format!("Entries: {min} to {max}."));
        }
        if let Some(SingleOrVec::Single(item)) = &array.items {
            if let Schema::Object(item) = item.as_ref() {
                if let Some(pattern) = item.string.as_ref().and_then(|s| s.pattern.as_ref()) {
                    found.push(format!("Entry pattern: `{pattern}`."));
                }
            }
        }
    }
    found
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn code_list(ids: &[&str]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    ids.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
}

/// Joins `items` as "a, b or c".
fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> String {
        reference(&tenant_schema(), &DatasetCatalogue::embedded())
    }

    #[test]
    fn reference_has_a_section_per_module() {
        let text = rendered();

        for heading in ["## Top-level fields", "## AMC", "## SponsoredAds", "## DSP", "## Marketing Stream datasets"] {
            assert!(text.contains(&format!("{heading}\n")), "{heading} missing in:\n{text}");
        }
    }

    #[test]
    fn required_and_optional_fields_are_marked() {
        let text = rendered();

        assert!(text.contains("| `customerId` | string | yes |"), "{text}");
        assert!(text.contains("| `amcGreenAwsAccount` | string | no |"), "{text}");
        assert!(text.contains("| `AMC` | object, see [AMC](#amc) | no |"), "{text}");
        assert!(text.contains("| `profileIds` | list of strings | yes |"), "{text}");
    }

    #[test]
    fn enum_values_and_meanings_are_listed() {
        let text = rendered();

        assert!(text.contains("| `endemicType` | `ENDEMIC` or `NON_ENDEMIC` | yes |"), "{text}");
        assert!(text.contains("| `advertisingRegion` | `NA`, `EU` or `FE` | yes |"), "{text}");
        assert!(text.contains("- `RETAIN`: Removes access grants"), "{text}");
    }

    #[test]
    fn patterns_come_from_the_validator() {
        let text = rendered();

        assert!(text.contains("Pattern: `^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$`."), "{text}");
        assert!(text.contains("Entry pattern: `^[0-9]{1,20}$`."), "{text}");
        assert!(text.contains("Entries: 1 to 100."), "{text}");
    }

    #[test]
    fn datasets_table_has_every_region() {
        let text = rendered();

        assert!(text.contains("| `NA` | `us-east-1` | "), "{text}");
        assert!(text.contains("| `EU` | `eu-west-1` | "), "{text}");
        assert!(text.contains("`sp-traffic`"), "{text}");
    }

    #[test]
    fn cell_escapes_pipes() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}

#[cfg(test)]
mod docs {
    //! Keeps `docs/tenant-record.md` equal to what the schema renders.
    //! `TPS_UPDATE_DOCS=1 cargo test -p tps-cli docs` (or `make docs`)
    //! rewrites the page.

    use super::*;

    /// The line before the generated part of `docs/tenant-record.md`.
    const BEGIN_MARKER: &str = "<!-- BEGIN generated by `tps schema --format markdown`; edit the Rust doc comments instead -->";
    /// The line after the generated part of `docs/tenant-record.md`.
    const END_MARKER: &str = "<!-- END generated -->";

    /// Replaces the text between [`BEGIN_MARKER`] and [`END_MARKER`] in `page`
    /// with `generated`. Fails when either marker is missing.
    fn splice(page: &str, generated: &str) -> Result<String, String> {
        let begin = page.find(BEGIN_MARKER).ok_or_else(|| format!("the marker {BEGIN_MARKER:?} is missing"))?;
        let after_begin = begin + BEGIN_MARKER.len();
        let end = page[after_begin..]
            .find(END_MARKER)
            .map(|offset| after_begin + offset)
            .ok_or_else(|| format!("the marker {END_MARKER:?} is missing after the begin marker"))?;
        Ok(format!("{}\n\n{}\n{}", &page[..after_begin], generated.trim_end(), &page[end..]))
    }

    #[test]
    fn tenant_record_page_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/tenant-record.md");
        let page = std::fs::read_to_string(path).expect("docs/tenant-record.md is readable");
        let generated = reference(&tenant_schema(), &DatasetCatalogue::embedded());
        let expected = splice(&page, &generated).expect("docs/tenant-record.md has the generated-part markers");

        if std::env::var_os("TPS_UPDATE_DOCS").is_some() {
            std::fs::write(path, &expected).expect("docs/tenant-record.md is writable");
            return;
        }
        assert!(
            page == expected,
            "docs/tenant-record.md differs from the reference the schema renders: run `make docs` and commit the page"
        );
    }

    #[test]
    fn splice_replaces_only_the_generated_part() {
        let page = format!("intro\n{BEGIN_MARKER}\nold\n{END_MARKER}\noutro\n");

        let spliced = splice(&page, "new\n").unwrap();

        assert_eq!(spliced, format!("intro\n{BEGIN_MARKER}\n\nnew\n{END_MARKER}\noutro\n"));
    }

    #[test]
    fn splice_reports_a_missing_marker() {
        let error = splice("no markers here", "new").unwrap_err();

        assert!(error.contains("BEGIN"), "{error}");
    }
}

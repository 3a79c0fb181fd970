//! `tps status`: tenants' overall and per-module status from the status
//! table `tps-{team}-TenantStatus-{env}`.

use std::process::ExitCode;

use aws_sdk_dynamodb::types::AttributeValue;
use clap::Args;
use tps_core::status::TenantStatus;

use crate::context::{Connection, GlobalArgs, Target};
use crate::errors::{describe, Resource};
use crate::output::{describe_outputs, exit, print_json, OutputFormat, Table};

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Show only this tenant id; every tenant when omitted.
    #[arg(value_name = "ID")]
    pub id: Option<String>,
}

pub async fn run(args: StatusArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let connection = Target::resolve(global)?.connect().await?;
    let table = connection.names().status_table();

    let statuses: Vec<TenantStatus> = match &args.id {
        Some(id) => match fetch(&connection, id).await? {
            Some(status) => vec![status],
            None => {
                eprintln!(
                    "error: no status for tenant {id} in table {table}: the tenant was never written, or its row is still being processed; list tenants with `tps tenant list`"
                );
                return Ok(ExitCode::from(exit::FAILURE));
            }
        },
        None => {
            let items = connection.scan(&table).await?;
            let mut statuses = Vec::new();
            for item in items {
                let tenant = item.get("tenantId").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                match serde_dynamo::from_item::<_, TenantStatus>(item) {
                    Ok(status) => statuses.push(status),
                    Err(error) => eprintln!("warning: skipped the status item of tenant {tenant:?} in table {table}: not a tenant status: {error}"),
                }
            }
            statuses.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
            statuses
        }
    };

    match global.output {
        OutputFormat::Json if args.id.is_some() => print_json(&statuses[0])?,
        OutputFormat::Json => print_json(&statuses)?,
        OutputFormat::Text if statuses.is_empty() => eprintln!("no tenants in table {table}"),
        OutputFormat::Text => print!("{}", render(&statuses, chrono::Utc::now())),
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the status of tenant `id`, or `None` when the table has no item
/// for it.
pub async fn fetch(connection: &Connection, id: &str) -> anyhow::Result<Option<TenantStatus>> {
    let table = connection.names().status_table();
    let output = connection
        .dynamodb()
        .get_item()
        .table_name(&table)
        .key("tenantId", AttributeValue::S(id.to_string()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|error| describe(connection, "dynamodb:GetItem", Resource::Table(&table), &error))?;
    let Some(item) = output.item else { return Ok(None) };
    let status = serde_dynamo::from_item(item).map_err(|error| {
        anyhow::anyhow!("the status item of tenant {id} in table {table} is not a tenant status: {error}")
    })?;
    Ok(Some(status))
}

/// Renders one line per tenant, then one indented line per module with its key
/// outputs (bucket, key alias, queues) or its error.
pub fn render(statuses: &[TenantStatus], now: chrono::DateTime<chrono::Utc>) -> String {
    let mut table = Table::new(&["TENANT / MODULE", "STATUS", "LAST CHANGE", "DETAILS"]);
    for status in statuses {
        let mut details = vec![status.action.as_str().to_string()];
        if !status.errors.is_empty() {
            let count = status.errors.len();
            details.push(format!("{count} validation error{}", if count == 1 { "" } else { "s" }));
        }
        table.row(vec![
            status.tenant_id.clone(),
            status.status.to_string(),
            since(&status.updated_at, now),
            details.join(", "),
        ]);
        for error in &status.errors {
            table.row(vec![String::new(), String::new(), String::new(), format!("error: {error}")]);
        }
        for (module, module_status) in &status.modules {
            let state = serde_json::to_value(module_status.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let detail = match &module_status.error {
                Some(error) => format!("error: {}: {}", error.error_type, error.message),
                None => describe_outputs(&module_status.outputs),
            };
            table.row(vec![format!("  {module}"), state, since(&module_status.updated_at, now), detail]);
        }
    }
    table.render()
}

/// Formats the time and how long ago it was, such as `2026-01-01T10:00:00.000Z (5m ago)`.
fn since(timestamp: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Ok(time) = chrono::DateTime::parse_from_rfc3339(timestamp) else {
        return timestamp.to_string();
    };
    let seconds = (now - time.with_timezone(&chrono::Utc)).num_seconds().max(0);
    let age = match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86400 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86400),
    };
    format!("{timestamp} ({age} ago)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_shows_age() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:05:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(since("2026-01-01T10:04:30Z", now), "2026-01-01T10:04:30Z (30s ago)");
        assert_eq!(since("2026-01-01T09:05:00Z", now), "2026-01-01T09:05:00Z (1h ago)");
        assert_eq!(since("not a time", now), "not a time");
    }
}

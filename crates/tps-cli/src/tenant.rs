//! `tps tenant`: writes, reads, lists and deletes rows of the tenant table
//! `tps-{team}-CustomerConfig-{env}`.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use aws_sdk_dynamodb::types::AttributeValue;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use tps_core::action::{decide, Decision, ModuleOperation, StreamEventName};
use tps_core::status::{TenantState, TenantStatus};
use tps_core::workflow::ModuleTask;
use tps_core::{Module, TenantRecord};

use crate::context::{Connection, GlobalArgs, Target};
use crate::errors::{describe, Resource};
use crate::input;
use crate::status;
use crate::output::{exit, print_json, OutputFormat, Table};
use crate::validate::{self, CatalogueArg};

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// Validate a tenant record and write it to the tenant table, which
    /// starts onboarding (or updates the tenant when the row exists).
    ///
    /// An invalid record is not written: every error is printed with its
    /// field path, and the exit code is 1. A record whose customerId is
    /// already used by a row with another customerName is rejected the same
    /// way, because a tenant id must be unique.
    Put(PutArgs),
    /// Print the row of this customerId as a JSON object; with --output json,
    /// a JSON list of its rows. Rows with the same customerId (which the
    /// service rejects) are printed as a list, with a warning.
    Get {
        /// The tenant id (customerId).
        #[arg(value_name = "ID")]
        id: String,
    },
    /// List every tenant: id, name, prefix and enabled modules.
    List,
    /// Delete the rows with this customerId, which offboards the tenant per
    /// its retention policy.
    ///
    /// Asks for confirmation when standard input is a terminal. Without a
    /// terminal it deletes nothing unless --yes is given.
    Delete {
        /// The tenant id (customerId).
        #[arg(value_name = "ID")]
        id: String,
        /// Delete without asking for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Provision again the modules of a tenant that are not ACTIVE, after
    /// the cause of their failure is fixed.
    ///
    /// Validates the stored row, then sets its attribute rerunRequestedAt to
    /// the current time. The row's stream record then starts an execution
    /// for every enabled module that is not ACTIVE, and ACTIVE modules are
    /// left alone. Writing the same row again with `tps tenant put` starts
    /// nothing, because DynamoDB writes no stream record for a write that
    /// changes no attribute. Exit code 0 also when the stream function would
    /// start nothing, in which case nothing is written. Exit code 1 when the
    /// row is invalid.
    Rerun(RerunArgs),
}

#[derive(Args, Debug)]
pub struct RerunArgs {
    /// The tenant id (customerId).
    #[arg(value_name = "ID")]
    pub id: String,

    #[command(flatten)]
    pub catalogue: CatalogueArg,
}

#[derive(Args, Debug)]
pub struct PutArgs {
    /// The tenant record: plain JSON or DynamoDB JSON, one record. `-`
    /// reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Validate and print the DynamoDB item JSON that would be written;
    /// write nothing and make no AWS call.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub catalogue: CatalogueArg,
}

pub async fn run(command: TenantCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        TenantCommand::Put(args) => put(args, global).await,
        TenantCommand::Get { id } => get(&id, global).await,
        TenantCommand::List => list(global).await,
        TenantCommand::Delete { id, yes } => delete(&id, yes, global).await,
        TenantCommand::Rerun(args) => rerun(args, global).await,
    }
}

async fn put(args: PutArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let records = input::read_records(&args.file)?;
    if records.len() != 1 {
        bail!(
            "{} contains {} records, but `tps tenant put` writes one: put each record from its own file, or check them all with `tps validate`",
            args.file.display(),
            records.len()
        );
    }
    let record = &records[0];
    let report = validate::check(record, &args.catalogue.load()?);
    let Some(tenant) = report.record.clone() else {
        eprint!("{}", validate::render(&report));
        eprintln!("error: tenant record not written: fix the errors above, then run `tps tenant put` again");
        return Ok(ExitCode::from(exit::FAILURE));
    };
    let row = record.row.clone().expect("a valid record has a row");

    let target = Target::resolve(global)?;
    let table = target.names.tenant_table();
    if args.dry_run {
        print_json(&input::to_dynamodb_json(&row)?)?;
        eprintln!("dry run: tenant {} would be written to table {table}; nothing was written", tenant.customer_id);
        return Ok(ExitCode::SUCCESS);
    }

    let connection = target.connect().await?;
    // NOTE: the check and the write are two calls, so two concurrent puts of
    // one customerId with different customerNames can both pass it.
    let existing = query_rows(&connection, &tenant.customer_id).await?;
    let names: Vec<String> = existing.iter().filter_map(|item| string_attribute(item, "customerName")).collect();
    if let Some(other) = names.iter().find(|name| **name != tenant.customer_name) {
        eprintln!(
            "error: tenant {} already exists in table {table} with customerName {other:?}, and a tenant id must be unique: \
             keep customerName {other:?} to update that row, or delete it first with `tps tenant delete {}`",
            tenant.customer_id, tenant.customer_id
        );
        return Ok(ExitCode::from(exit::FAILURE));
    }
    let created = names.is_empty();
    let unchanged = existing.into_iter().map(input::from_item).any(|stored| stored.ok().as_ref() == Some(&row));
    let status = status::fetch(&connection, &tenant.customer_id).await?;
    if let Some(error) = status.as_ref().and_then(|s| s.prefix_change_error(&tenant)) {
        eprintln!("{}: invalid: 1 error\n  {error}", args.file.display());
        eprintln!("error: tenant record not written: fix the error above, then run `tps tenant put` again");
        return Ok(ExitCode::from(exit::FAILURE));
    }
    let skipped = match next_decision(&tenant, status.as_ref()) {
        Decision::Skip { reason } => Some(reason),
        Decision::Run { .. } => None,
    };

    connection
        .dynamodb()
        .put_item()
        .table_name(&table)
        .set_item(Some(input::to_item(&row)?))
        .send()
        .await
        .map_err(|error| describe(&connection, "dynamodb:PutItem", Resource::Table(&table), &error))?;

    match global.output {
        OutputFormat::Json => print_json(&json!({
            "tenantId": tenant.customer_id,
            "customerName": tenant.customer_name,
            "table": table,
            "created": created,
            "unchanged": unchanged,
            "executionExpected": !unchanged && skipped.is_none(),
        }))?,
        OutputFormat::Text if unchanged => {
            println!("tenant {} ({}) in table {table} is unchanged", tenant.customer_id, tenant.customer_name);
            println!(
                "nothing starts, because DynamoDB writes no stream record for an identical row; \
                 to provision the modules that are not ACTIVE, run: {} tenant rerun {}",
                command_prefix(global),
                tenant.customer_id
            );
        }
        OutputFormat::Text if skipped.is_some() => {
            println!("updated tenant {} ({}) in table {table}", tenant.customer_id, tenant.customer_name);
            println!("no execution starts: {}", skipped.unwrap_or_default());
        }
        OutputFormat::Text => {
            let verb = if created { "created" } else { "updated" };
            println!("{verb} tenant {} ({}) in table {table}", tenant.customer_id, tenant.customer_name);
            println!("follow it with: {} watch --until-terminal {}", command_prefix(global), tenant.customer_id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn get(id: &str, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let connection = Target::resolve(global)?.connect().await?;
    let items = query_rows(&connection, id).await?;
    if items.is_empty() {
        eprintln!("error: no tenant {id} in table {}", connection.names().tenant_table());
        return Ok(ExitCode::from(exit::FAILURE));
    }
    let rows = items.into_iter().map(input::from_item).collect::<anyhow::Result<Vec<Value>>>()?;
    match (global.output, rows.as_slice()) {
        (OutputFormat::Text, [row]) => print_json(row)?,
        (OutputFormat::Text, _) => {
            let names: Vec<String> = rows.iter().map(|row| format!("{:?}", text(row, "customerName"))).collect();
            eprintln!(
                "warning: tenant {id} has {} rows ({}), but a tenant id must be unique and the stream function rejects all but the first; \
                 delete the extra rows from table {}",
                rows.len(),
                names.join(", "),
                connection.names().tenant_table()
            );
            print_json(&rows)?;
        }
        (OutputFormat::Json, _) => print_json(&rows)?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let connection = Target::resolve(global)?.connect().await?;
    let table = connection.names().tenant_table();
    let items = connection.scan(&table).await?;
    let mut rows = items.into_iter().map(input::from_item).collect::<anyhow::Result<Vec<Value>>>()?;
    rows.sort_by(|a, b| {
        let key = |row: &Value| (text(row, "customerId"), text(row, "customerName"));
        key(a).cmp(&key(b))
    });

    match global.output {
        OutputFormat::Json => print_json(&rows)?,
        OutputFormat::Text if rows.is_empty() => eprintln!("no tenants in table {table}"),
        OutputFormat::Text => {
            let mut table = Table::new(&["CUSTOMER ID", "CUSTOMER NAME", "PREFIX", "MODULES"]);
            for row in &rows {
                let modules: Vec<&str> = Module::ALL
                    .iter()
                    .map(|m| m.section())
                    .filter(|section| row.get(*section).is_some_and(|v| !v.is_null()))
                    .collect();
                table.row(vec![
                    text(row, "customerId"),
                    text(row, "customerName"),
                    text(row, "customerPrefix"),
                    modules.join(","),
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn delete(id: &str, yes: bool, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let connection = Target::resolve(global)?.connect().await?;
    let table = connection.names().tenant_table();
    let items = query_rows(&connection, id).await?;
    if items.is_empty() {
        eprintln!("error: no tenant {id} in table {table}");
        return Ok(ExitCode::from(exit::FAILURE));
    }

    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: tenant {id} not deleted: deleting needs a confirmation, but standard input is not a terminal; pass --yes to delete without asking"
            );
            return Ok(ExitCode::from(exit::FAILURE));
        }
        let names: Vec<String> = items.iter().filter_map(|item| string_attribute(item, "customerName")).collect();
        let retention = items
            .iter()
            .find_map(|item| string_attribute(item, "retention"))
            .unwrap_or_else(|| "RETAIN".to_string());
        let retained = if retention == "DELETE" {
            "keys are scheduled for deletion and empty buckets deleted"
        } else {
            "buckets and keys are kept"
        };
        let question = format!(
            "Delete tenant {id} ({}) from table {table}? Its modules are offboarded with retention {retention} ({retained}). [y/N] ",
            names.join(", ")
        );
        if !confirm(&question)? {
            eprintln!("tenant {id} not deleted");
            return Ok(ExitCode::from(exit::FAILURE));
        }
    }

    for item in &items {
        let mut key = HashMap::new();
        for attribute in ["customerId", "customerName"] {
            if let Some(value) = item.get(attribute) {
                key.insert(attribute.to_string(), value.clone());
            }
        }
        connection
            .dynamodb()
            .delete_item()
            .table_name(&table)
            .set_key(Some(key))
            .send()
            .await
            .map_err(|error| describe(&connection, "dynamodb:DeleteItem", Resource::Table(&table), &error))?;
    }

    match global.output {
        OutputFormat::Json => print_json(&json!({"tenantId": id, "table": table, "deletedRows": items.len()}))?,
        OutputFormat::Text => {
            println!("deleted tenant {id} from table {table}; offboarding starts");
            println!("follow it with: {} watch --until-terminal {id}", command_prefix(global));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn rerun(args: RerunArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let id = args.id.as_str();
    let connection = Target::resolve(global)?.connect().await?;
    let table = connection.names().tenant_table();
    let items = query_rows(&connection, id).await?;
    let Some(item) = items.first() else {
        eprintln!("error: no tenant {id} in table {table}; list tenants with `tps tenant list`");
        return Ok(ExitCode::from(exit::FAILURE));
    };

    let row = input::from_item(item.clone())?;
    let tenant = match tps_core::validate::validate(&row, &args.catalogue.load()?) {
        Ok(tenant) => tenant,
        Err(errors) => {
            eprintln!("error: the row of tenant {id} in table {table} is invalid, so the stream function would reject it again:");
            for error in &errors.0 {
                eprintln!("  {error}");
            }
            eprintln!("fix the row and write it with `{} tenant put FILE`", command_prefix(global));
            return Ok(ExitCode::from(exit::FAILURE));
        }
    };

    let status = status::fetch(&connection, id).await?;
    let running = status.as_ref().filter(|s| s.status == TenantState::InProgress);
    let tasks = match (next_decision(&tenant, status.as_ref()), running) {
        (Decision::Run { tasks, .. }, _) => tasks,
        // The stream function runs the row again if the recorded execution
        // has stopped, which only it checks.
        (Decision::Skip { .. }, Some(running)) => {
            let execution = running.execution_arn.as_deref().unwrap_or("unknown");
            eprintln!(
                "warning: tenant {id} is IN_PROGRESS (execution {execution}); the re-run starts only if that execution has stopped"
            );
            Vec::new()
        }
        (Decision::Skip { reason }, None) => {
            match global.output {
                OutputFormat::Json => print_json(&json!({"tenantId": id, "table": table, "rerun": false, "reason": reason}))?,
                OutputFormat::Text => println!("nothing to re-run: {reason}"),
            }
            return Ok(ExitCode::SUCCESS);
        }
    };

    let mut key = HashMap::new();
    for attribute in ["customerId", "customerName"] {
        if let Some(value) = item.get(attribute) {
            key.insert(attribute.to_string(), value.clone());
        }
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    connection
        .dynamodb()
        .update_item()
        .table_name(&table)
        .set_key(Some(key))
        .update_expression("SET rerunRequestedAt = :now")
        .condition_expression("attribute_exists(customerId)")
        .expression_attribute_values(":now", AttributeValue::S(now.clone()))
        .send()
        .await
        .map_err(|error| describe(&connection, "dynamodb:UpdateItem", Resource::Table(&table), &error))?;

    match global.output {
        OutputFormat::Json => print_json(&json!({
            "tenantId": id,
            "table": table,
            "rerun": true,
            "tasks": tasks,
            "rerunRequestedAt": now,
        }))?,
        OutputFormat::Text if running.is_some() && tasks.is_empty() => println!("requested a re-run of tenant {id}"),
        OutputFormat::Text => {
            println!("requested a re-run of tenant {id}: {}", describe_tasks(&tasks, status.as_ref()));
            println!("follow it with: {} watch --until-terminal {id}", command_prefix(global));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Decides, as the stream function does, what a new `MODIFY` record of
/// `tenant` starts, given the tenant's recorded status.
fn next_decision(tenant: &TenantRecord, status: Option<&TenantStatus>) -> Decision {
    let sequence_number = status.and_then(|s| s.sequence_number.as_deref()).unwrap_or("0");
    decide(StreamEventName::Modify, tenant, status, sequence_number)
}

/// Describes module tasks for a message, such as `provision AMC (FAILED)`,
/// with each module's recorded state.
fn describe_tasks(tasks: &[ModuleTask], status: Option<&TenantStatus>) -> String {
    if tasks.is_empty() {
        return "no module needs provisioning, and the execution records the tenant's status again".to_string();
    }
    let described: Vec<String> = tasks
        .iter()
        .map(|task| {
            let operation = match task.operation {
                ModuleOperation::Provision => "provision",
                ModuleOperation::Deprovision => "deprovision",
            };
            let state = status
                .and_then(|s| s.modules.get(&task.module))
                .and_then(|m| serde_json::to_value(m.state).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "NOT_PROVISIONED".to_string());
            format!("{operation} {} ({state})", task.module)
        })
        .collect();
    described.join(", ")
}

/// Queries every row of the tenant table with partition key `id`.
async fn query_rows(connection: &Connection, id: &str) -> anyhow::Result<Vec<HashMap<String, AttributeValue>>> {
    let table = connection.names().tenant_table();
    connection
        .dynamodb()
        .query()
        .table_name(&table)
        .key_condition_expression("customerId = :id")
        .expression_attribute_values(":id", AttributeValue::S(id.to_string()))
        .consistent_read(true)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|error| describe(connection, "dynamodb:Query", Resource::Table(&table), &error))
}

/// Prints `question` on standard error and reads the reply from standard
/// input. Only "y" or "yes" confirms.
fn confirm(question: &str) -> anyhow::Result<bool> {
    let mut stderr = std::io::stderr();
    write!(stderr, "{question}")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

fn string_attribute(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn text(row: &Value, field: &str) -> String {
    row.get(field).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// `tps` with the global options that select the stack, for the commands
/// that messages suggest.
pub fn command_prefix(global: &GlobalArgs) -> String {
    let mut parts = vec!["tps".to_string()];
    if global.local {
        parts.push("--local".to_string());
    }
    let options = [
        ("--endpoint-url", &global.endpoint_url),
        ("--region", &global.region),
        ("--profile", &global.profile),
        ("--team", &global.team),
        ("--env", &global.env),
    ];
    for (flag, value) in options {
        if let Some(value) = value {
            parts.push(format!("{flag} {value}"));
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use tps_core::status::{ModuleState, ModuleStatus};

    use super::*;

    fn task(module: Module, operation: ModuleOperation) -> ModuleTask {
        ModuleTask { module, operation, module_digest: None }
    }

    fn status_with(module: Module, state: ModuleState) -> TenantStatus {
        let mut status: TenantStatus = serde_json::from_value(json!({
            "tenantId": "acme", "customerName": "Acme", "status": "PARTIAL", "digest": "d",
            "action": "PROVISION", "updatedAt": "2026-01-01T00:00:00.000Z"
        }))
        .unwrap();
        let module_status: ModuleStatus =
            serde_json::from_value(json!({"state": state, "updatedAt": "2026-01-01T00:00:00.000Z"})).unwrap();
        status.modules.insert(module, module_status);
        status
    }

    #[test]
    fn tasks_show_recorded_state() {
        let status = status_with(Module::Amc, ModuleState::Failed);
        let tasks = [task(Module::Amc, ModuleOperation::Provision), task(Module::Dsp, ModuleOperation::Deprovision)];

        let text = describe_tasks(&tasks, Some(&status));

        assert_eq!(text, "provision AMC (FAILED), deprovision DSP (NOT_PROVISIONED)");
    }

    #[test]
    fn no_tasks_is_described() {
        assert!(describe_tasks(&[], None).starts_with("no module needs provisioning"));
    }
}

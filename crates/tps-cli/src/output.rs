//! Output formats, exit codes and plain-text tables.

use std::fmt::Write as _;

use clap::ValueEnum;

/// Exit codes of every command, as `tps --help` lists them.
pub mod exit {
    /// Success.
    pub const SUCCESS: u8 = 0;
    /// A record is invalid, a tenant was not found, a confirmation was
    /// declined, or a watched tenant ended in a failure.
    pub const FAILURE: u8 = 1;
    /// A usage error, an unreadable file, or a failed AWS call.
    pub const USAGE: u8 = 2;
    /// `tps watch --timeout` expired.
    pub const TIMEOUT: u8 = 3;
    /// Interrupted with Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

/// The exit codes as `tps --help` prints them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    a tenant record is invalid, a tenant was not found, a confirmation was
       declined, or a watched tenant ended in TenantPartiallyActive,
       TenantFailed or TenantValidationFailed
  2    usage error, unreadable file, or a failed AWS call (missing table or
       queue, no credentials, endpoint unreachable)
  3    tps watch --timeout expired
  130  interrupted with Ctrl-C";

/// The format of a command's result on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns and readable lines.
    #[default]
    Text,
    /// JSON: one document per command, or one object per line for `tps watch`.
    Json,
}

/// A table of left-aligned columns separated by two spaces.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Renders the header and the rows; the last column is not padded.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (index, cell) in row.iter().enumerate().take(columns) {
                widths[index] = widths[index].max(cell.chars().count());
            }
        }

        let mut text = String::new();
        for line in std::iter::once(&self.header).chain(&self.rows) {
            let mut rendered = String::new();
            for (index, cell) in line.iter().enumerate().take(columns) {
                if index + 1 == columns {
                    rendered.push_str(cell);
                } else {
                    let _ = write!(rendered, "{cell:<width$}  ", width = widths[index]);
                }
            }
            text.push_str(rendered.trim_end());
            text.push('\n');
        }
        text
    }
}

/// Summarizes the outputs of a module that an operator needs first: bucket,
/// key alias and queues of a provisioned module, and what offboarding kept.
pub fn describe_outputs(outputs: &serde_json::Value) -> String {
    let mut parts = vec![tps_local::demo::key_outputs(outputs)];
    let kept: Vec<&str> = outputs
        .get("kept")
        .and_then(serde_json::Value::as_array)
        .map(|kept| kept.iter().filter_map(|k| k.get("resource").and_then(serde_json::Value::as_str)).collect())
        .unwrap_or_default();
    if !kept.is_empty() {
        parts.push(format!("kept: {}", kept.join(", ")));
    }
    parts.retain(|part| !part.is_empty());
    parts.join(" ")
}

/// Prints `value` as pretty JSON on standard output.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_of_provisioned_and_offboarded_modules() {
        let provisioned = serde_json::json!({"bucketName": "b", "kmsKeyAlias": "alias/k"});
        assert_eq!(describe_outputs(&provisioned), "bucket=b key=alias/k");
        let offboarded = serde_json::json!({
            "kept": [{"resource": "S3 bucket b", "reason": "retention is RETAIN"}, {"resource": "KMS key alias/k"}],
            "removed": ["bucket policy grants of b"]
        });
        assert_eq!(describe_outputs(&offboarded), "kept: S3 bucket b, KMS key alias/k");
        assert_eq!(describe_outputs(&serde_json::Value::Null), "");
    }

    #[test]
    fn table_aligns_columns() {
        let mut table = Table::new(&["ID", "NAME", "NOTE"]);
        table.row(vec!["a".into(), "long name".into(), "x".into()]);
        table.row(vec!["bbbb".into(), "n".into(), String::new()]);
        let rendered = table.render();
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines[0], "ID    NAME       NOTE");
        assert_eq!(lines[1], "a     long name  x");
        assert_eq!(lines[2], "bbbb  n");
    }
}

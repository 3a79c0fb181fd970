//! Tenant record files: plain JSON or DynamoDB JSON, one record or many.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};

/// The type descriptors of DynamoDB JSON (`{"S": "text"}`).
const TYPE_DESCRIPTORS: &[&str] = &["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];

/// The notation of a record in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A plain JSON object, as the examples and the QuickStart's notebooks write it.
    Json,
    /// DynamoDB JSON, as the console and the AWS CLI print items.
    Dynamodb,
}

/// One record of a file: its label (`FILE`, or `FILE[INDEX]` in a list) and
/// the row as plain JSON, or why it could not be read as one.
#[derive(Debug, Clone)]
pub struct Record {
    pub label: String,
    pub format: Format,
    pub row: Result<Value, String>,
}

/// Keys that the AWS CLI prints next to `Item` or `Items` in the responses
/// of `get-item`, `query` and `scan`.
const RESPONSE_METADATA: &[&str] = &["Count", "ScannedCount", "ConsumedCapacity", "LastEvaluatedKey", "NextToken"];

/// Reads the records of `path` (`-` for standard input). The file may contain
/// one record, a JSON list of records, the AWS CLI's `get-item`, `query` or
/// `scan` output (`{"Item": ...}` or `{"Items": [...]}`), or JSON Lines,
/// one record or `{"Item": ...}` per line as a DynamoDB export writes them.
/// Each record may be plain or DynamoDB JSON. Fails only when the file
/// cannot be read; text that is not JSON gives a record whose row is the
/// parse error.
pub fn read_records(path: &Path) -> anyhow::Result<Vec<Record>> {
    let label = display(path);
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
        text
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {label}"))?
    };
    Ok(parse_records(&text, &label))
}

/// Splits the JSON text of a file into records; see [`read_records`].
pub fn parse_records(text: &str, label: &str) -> Vec<Record> {
    let mut documents = Vec::new();
    let mut failure = None;
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let line = line_at(text, stream.byte_offset());
        match stream.next() {
            None => break,
            Some(Ok(document)) => documents.push((line, document)),
            Some(Err(error)) => {
                failure = Some((line, format!("not valid JSON: {error}")));
                break;
            }
        }
    }

    let mut records = match documents.len() {
        0 => Vec::new(),
        1 => {
            let (_, document) = documents.pop().expect("one document");
            let records = from_document(document, label);
            if records.is_empty() {
                return vec![Record {
                    label: label.to_string(),
                    format: Format::Json,
                    row: Err("no records: the list is empty".to_string()),
                }];
            }
            records
        }
        _ => documents
            .into_iter()
            .map(|(line, document)| {
                let item = match document {
                    Value::Object(mut object) if object.len() == 1 && object.get("Item").is_some_and(Value::is_object) => {
                        object.remove("Item").expect("checked above")
                    }
                    other => other,
                };
                record(format!("{label}:{line}"), item)
            })
            .collect(),
    };
    match failure {
        Some((line, message)) if !records.is_empty() => records.push(Record {
            label: format!("{label}:{line}"),
            format: Format::Json,
            row: Err(message),
        }),
        Some((_, message)) => records.push(Record { label: label.to_string(), format: Format::Json, row: Err(message) }),
        None if records.is_empty() => records.push(Record {
            label: label.to_string(),
            format: Format::Json,
            row: Err("empty: expected a tenant record, a JSON object".to_string()),
        }),
        None => {}
    }
    records
}

/// Splits one JSON document: a list, an AWS CLI response or one record.
fn from_document(document: Value, label: &str) -> Vec<Record> {
    let is_response = |object: &Map<String, Value>, key: &str| {
        object.keys().all(|k| k == key || RESPONSE_METADATA.contains(&k.as_str()))
    };
    match document {
        Value::Array(items) => {
            items.into_iter().enumerate().map(|(index, item)| record(format!("{label}[{index}]"), item)).collect()
        }
        Value::Object(mut object) if object.get("Items").is_some_and(Value::is_array) && is_response(&object, "Items") => {
            let Some(Value::Array(items)) = object.remove("Items") else { unreachable!("checked above") };
            items.into_iter().enumerate().map(|(index, item)| record(format!("{label}[{index}]"), item)).collect()
        }
        Value::Object(mut object) if object.get("Item").is_some_and(Value::is_object) && is_response(&object, "Item") => {
            vec![record(label.to_string(), object.remove("Item").expect("checked above"))]
        }
        other => vec![record(label.to_string(), other)],
    }
}

/// Makes the record of one item, converting DynamoDB JSON to plain JSON.
fn record(label: String, item: Value) -> Record {
    match item {
        Value::Object(object) if is_dynamodb_json(&object) => {
            Record { label, format: Format::Dynamodb, row: from_dynamodb_json(object) }
        }
        other => Record { label, format: Format::Json, row: Ok(other) },
    }
}

/// Returns the 1-based line of the first character at or after `offset`
/// that is not whitespace.
fn line_at(text: &str, offset: usize) -> usize {
    let rest = &text[offset.min(text.len())..];
    let start = offset + (rest.len() - rest.trim_start().len());
    text[..start.min(text.len())].matches('\n').count() + 1
}

/// Returns whether every attribute of `object` is a DynamoDB JSON value
/// such as `{"S": "acme"}`. A plain tenant record is not, because its
/// `customerId` is a string.
pub fn is_dynamodb_json(object: &Map<String, Value>) -> bool {
    !object.is_empty()
        && object.values().all(|value| {
            value
                .as_object()
                .is_some_and(|typed| typed.len() == 1 && typed.keys().all(|k| TYPE_DESCRIPTORS.contains(&k.as_str())))
        })
}

/// Converts a DynamoDB JSON item to plain JSON with serde_dynamo.
fn from_dynamodb_json(object: Map<String, Value>) -> Result<Value, String> {
    let item: serde_dynamo::Item = serde_json::from_value(Value::Object(object))
        .map_err(|error| format!("invalid DynamoDB JSON: {error}"))?;
    serde_dynamo::from_item(item).map_err(|error| format!("DynamoDB JSON does not convert to plain JSON: {error}"))
}

/// Converts a plain JSON row to a DynamoDB item.
pub fn to_item(row: &Value) -> anyhow::Result<HashMap<String, AttributeValue>> {
    serde_dynamo::to_item(row).context("the row does not convert to a DynamoDB item")
}

/// Converts a plain JSON row to DynamoDB JSON, as `put-item --item` takes it.
pub fn to_dynamodb_json(row: &Value) -> anyhow::Result<Value> {
    let item: serde_dynamo::Item = serde_dynamo::to_item(row).context("the row does not convert to a DynamoDB item")?;
    Ok(serde_json::to_value(item)?)
}

/// Converts a DynamoDB item read from a table to plain JSON.
pub fn from_item(item: HashMap<String, AttributeValue>) -> anyhow::Result<Value> {
    serde_dynamo::from_item(item).context("the item does not convert to JSON")
}

fn display(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        PathBuf::from(path).display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn plain_record() {
        let records = parse_records(r#"{"customerId": "acme", "AMC": {"amcOrangeAwsAccount": "123"}}"#, "a.json");
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].label, "a.json");
        assert_eq!(records[0].format, Format::Json);
        assert_eq!(records[0].row.as_ref().unwrap()["customerId"], "acme");
    }

    #[test]
    fn dynamodb_record_converts() {
        let text = r#"{"customerId": {"S": "acme"}, "AMC": {"M": {"amcOrangeAwsAccount": {"S": "123"}, "amcS3BucketName": {"NULL": true}}},
                       "SponsoredAds": {"M": {"profileIds": {"L": [{"S": "1"}]}}}, "count": {"N": "3"}}"#;
        let records = parse_records(text, "d.json");
        assert_eq!(records[0].format, Format::Dynamodb);
        let row = records[0].row.as_ref().unwrap();
        assert_eq!(row["customerId"], "acme");
        assert_eq!(row["AMC"]["amcOrangeAwsAccount"], "123");
        assert_eq!(row["AMC"]["amcS3BucketName"], Value::Null);
        assert_eq!(row["SponsoredAds"]["profileIds"], json!(["1"]));
        assert_eq!(row["count"], 3);
    }

    #[test]
    fn cli_item_and_items_wrappers() {
        let item = parse_records(r#"{"Item": {"customerId": {"S": "a"}}}"#, "i.json");
        assert_eq!(item.len(), 1);
        assert_eq!(item[0].label, "i.json");
        assert_eq!(item[0].row.as_ref().unwrap()["customerId"], "a");

        let items = parse_records(r#"{"Items": [{"customerId": {"S": "a"}}, {"customerId": "b"}]}"#, "s.json");
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].label, "s.json[1]");
        assert_eq!(items[1].format, Format::Json);
        assert_eq!(items[1].row.as_ref().unwrap()["customerId"], "b");
    }

    #[test]
    fn invalid_json_and_invalid_dynamodb_json() {
        let broken = parse_records("{", "b.json");
        assert!(broken[0].row.as_ref().unwrap_err().starts_with("not valid JSON"), "{:?}", broken[0].row);

        let bad_number = parse_records(r#"{"customerId": {"S": "a"}, "n": {"N": "many"}}"#, "n.json");
        assert_eq!(bad_number[0].format, Format::Dynamodb);
        assert!(bad_number[0].row.is_err(), "{:?}", bad_number[0].row);
    }

    #[test]
    fn scan_output_with_metadata() {
        let text = r#"{"Items": [{"customerId": {"S": "a"}}], "Count": 1, "ScannedCount": 1, "ConsumedCapacity": null}"#;

        let records = parse_records(text, "scan.json");

        assert_eq!(records.len(), 1);
        assert_eq!(records[0].label, "scan.json[0]");
        assert_eq!(records[0].row.as_ref().unwrap()["customerId"], "a");
    }

    #[test]
    fn get_item_output_with_metadata() {
        let records = parse_records(r#"{"Item": {"customerId": {"S": "a"}}, "ConsumedCapacity": null}"#, "get.json");

        assert_eq!(records.len(), 1);
        assert_eq!(records[0].row.as_ref().unwrap()["customerId"], "a");
    }

    #[test]
    fn record_named_items_is_one_record() {
        let records = parse_records(r#"{"Items": [], "customerId": "a"}"#, "r.json");

        assert_eq!(records.len(), 1);
        assert_eq!(records[0].row.as_ref().unwrap()["customerId"], "a");
    }

    #[test]
    fn json_lines_with_export_items() {
        let text = "{\"customerId\": \"a\"}\n\n{\"Item\": {\"customerId\": {\"S\": \"b\"}}}\n";

        let records = parse_records(text, "rows.jsonl");

        assert_eq!(records.len(), 2);
        assert_eq!(records[0].label, "rows.jsonl:1");
        assert_eq!(records[1].label, "rows.jsonl:3");
        assert_eq!(records[1].format, Format::Dynamodb);
        assert_eq!(records[1].row.as_ref().unwrap()["customerId"], "b");
    }

    #[test]
    fn json_lines_broken_line_is_reported() {
        let records = parse_records("{\"customerId\": \"a\"}\n{\"customerId\": \n", "rows.jsonl");

        assert_eq!(records.len(), 2);
        assert_eq!(records[1].label, "rows.jsonl:2");
        assert!(records[1].row.as_ref().unwrap_err().starts_with("not valid JSON"), "{:?}", records[1].row);
    }

    #[test]
    fn empty_list_is_an_error() {
        for text in ["[]", r#"{"Items": [], "Count": 0, "ScannedCount": 0}"#] {
            let records = parse_records(text, "none.json");

            assert_eq!(records.len(), 1, "{text}");
            assert!(records[0].row.as_ref().unwrap_err().starts_with("no records"), "{:?}", records[0].row);
        }
    }

    #[test]
    fn empty_file_is_an_error() {
        let records = parse_records("  \n", "empty.json");

        assert_eq!(records.len(), 1);
        assert!(records[0].row.as_ref().unwrap_err().starts_with("empty"), "{:?}", records[0].row);
    }

    #[test]
    fn dynamodb_json_round_trip() {
        let row = json!({"customerId": "acme", "AMC": {"amcOrangeAwsAccount": "123", "amcRegion": null}, "ids": ["1", "2"]});
        let dynamodb = to_dynamodb_json(&row).unwrap();
        assert_eq!(dynamodb["customerId"], json!({"S": "acme"}));
        assert_eq!(dynamodb["AMC"]["M"]["amcRegion"], json!({"NULL": true}));
        assert_eq!(dynamodb["ids"], json!({"L": [{"S": "1"}, {"S": "2"}]}));
        let back = parse_records(&dynamodb.to_string(), "x");
        assert_eq!(back[0].row.as_ref().unwrap(), &row);
    }
}

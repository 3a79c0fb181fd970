//! Validation of a tenant row.
//!
//! [`validate`] checks every rule and returns all violations at once, each
//! with the field path and the rule, so an operator fixes a row in one pass.
//! A field set to `null` counts as absent, and unknown fields are kept.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalogue::{AdvertisingRegion, DatasetCatalogue};
use crate::module::Module;
use crate::tenant::{
    AmcSection, DspSection, EndemicType, Retention, SponsoredAdsSection, TenantRecord,
};

/// Maximum number of ids in `profileIds` or `advertiserIds`.
pub const MAX_IDS: usize = 100;

pub(crate) static TENANT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$").unwrap());
pub(crate) static PREFIX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z0-9-]{1,20}$").unwrap());
pub(crate) static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{12}$").unwrap());
pub(crate) static AWS_REGION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$").unwrap());
pub(crate) static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{1,20}$").unwrap());
pub(crate) static ADVERTISER_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_-]{1,64}$").unwrap());
pub(crate) static BUCKET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$").unwrap());
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$").unwrap());
pub(crate) static HTTPS_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$").unwrap()
});

/// One violated rule: the field path (`AMC.amcOrangeAwsAccount`,
/// `SponsoredAds.profileIds[2]`) and what the field must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every rule a row violates, in field order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, thiserror::Error)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("; "))
    }
}

impl ValidationErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn paths(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.path.as_str()).collect()
    }

    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// Validates a tenant row given as JSON (a DynamoDB image converted with
/// `serde_dynamo`, or a file) and returns the typed record, or every error.
pub fn validate(row: &Value, catalogue: &DatasetCatalogue) -> Result<TenantRecord, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Some(object) = row.as_object() else {
        errors.push("$", format!("must be a JSON object, got {}", describe(row)));
        return Err(errors);
    };
    let mut fields = Fields::new(object, "", &mut errors);

    let customer_id = fields.string("customerId", true, |v| {
        TENANT_ID.is_match(v).then_some(()).ok_or(
            "must be 3 to 40 lowercase letters, digits or '-', starting and ending with a letter or digit",
        )
    });
    let customer_name = fields.string("customerName", true, |v| {
        let length = v.chars().count();
        if length == 0 || length > 256 {
            Err("must be 1 to 256 characters")
        } else if v.chars().any(char::is_control) {
            Err("must contain printable characters only, no control characters")
        } else {
            Ok(())
        }
    });
    let customer_prefix = fields.string("customerPrefix", true, |v| {
        PREFIX
            .is_match(v)
            .then_some(())
            .ok_or("must be 1 to 20 lowercase letters, digits or '-'")
    });
    let endemic_type = fields.string("endemicType", true, |v| {
        matches!(v, "ENDEMIC" | "NON_ENDEMIC")
            .then_some(())
            .ok_or("must be ENDEMIC or NON_ENDEMIC")
    });
    let retention = fields.string("retention", false, |v| {
        matches!(v, "RETAIN" | "DELETE")
            .then_some(())
            .ok_or("must be RETAIN or DELETE")
    });

    let amc = fields.section("AMC").map(|s| validate_amc(s, fields.errors));
    let sponsored_ads = fields
        .section("SponsoredAds")
        .map(|s| validate_sponsored_ads(s, catalogue, fields.errors));
    let dsp = fields.section("DSP").map(|s| validate_dsp(s, catalogue, fields.errors));
    let extra = fields.extra(&[
        "customerId",
        "customerName",
        "customerPrefix",
        "endemicType",
        "retention",
        "AMC",
        "SponsoredAds",
        "DSP",
    ]);

    let any_section = ["AMC", "SponsoredAds", "DSP"]
        .iter()
        .any(|name| object.get(*name).is_some_and(|v| !v.is_null()));
    if !any_section {
        errors.push(
            "$",
            "must enable at least one module: add an AMC, SponsoredAds or DSP section",
        );
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(TenantRecord {
        customer_id: customer_id.expect("checked above"),
        customer_name: customer_name.expect("checked above"),
        customer_prefix: customer_prefix.expect("checked above"),
        endemic_type: match endemic_type.as_deref() {
            Some("NON_ENDEMIC") => EndemicType::NonEndemic,
            _ => EndemicType::Endemic,
        },
        amc: amc.flatten(),
        sponsored_ads: sponsored_ads.flatten(),
        dsp: dsp.flatten(),
        retention: retention.map(|r| if r == "DELETE" { Retention::Delete } else { Retention::Retain }),
        extra,
    })
}

fn validate_amc(section: &Map<String, Value>, errors: &mut ValidationErrors) -> Option<AmcSection> {
    let before = errors.0.len();
    let mut fields = Fields::new(section, "AMC.", errors);

    let orange = fields.string("amcOrangeAwsAccount", true, account_rule);
    let green = fields.string("amcGreenAwsAccount", false, account_rule);
    let bucket = fields.string("amcS3BucketName", false, bucket_rule);
    let dataset = fields.string("amcDatasetName", false, name_rule);
    let team = fields.string("amcTeamName", false, name_rule);
    let endpoint = fields.string("amcApiEndpoint", false, |v| {
        HTTPS_URL
            .is_match(v)
            .then_some(())
            .ok_or("must be an https:// URL")
    });
    let region = fields.string("amcRegion", false, region_rule);
    let extra = fields.extra(&[
        "amcOrangeAwsAccount",
        "amcGreenAwsAccount",
        "amcS3BucketName",
        "amcDatasetName",
        "amcTeamName",
        "amcApiEndpoint",
        "amcRegion",
    ]);

    (errors.0.len() == before).then(|| AmcSection {
        amc_orange_aws_account: orange.expect("required field checked above"),
        amc_green_aws_account: green,
        amc_s3_bucket_name: bucket,
        amc_dataset_name: dataset,
        amc_team_name: team,
        amc_api_endpoint: endpoint,
        amc_region: region,
        extra,
    })
}

fn validate_sponsored_ads(
    section: &Map<String, Value>,
    catalogue: &DatasetCatalogue,
    errors: &mut ValidationErrors,
) -> Option<SponsoredAdsSection> {
    let before = errors.0.len();
    let mut fields = Fields::new(section, "SponsoredAds.", errors);

    let region = fields.region("advertisingRegion", true);
    let profile_ids = fields.list("profileIds", true, |v| {
        DIGITS.is_match(v).then_some(()).ok_or("must be a string of 1 to 20 digits")
    });
    let datasets = fields.list("streamDatasets", true, |_| Ok(()));
    if let (Some(region), Some(datasets)) = (region, datasets.as_ref()) {
        fields.check_datasets("streamDatasets", datasets, region, Module::SponsoredAds, catalogue);
    }
    let extra = fields.extra(&["advertisingRegion", "profileIds", "streamDatasets"]);

    (errors.0.len() == before).then(|| SponsoredAdsSection {
        advertising_region: region.expect("required field checked above"),
        profile_ids: profile_ids.expect("required field checked above"),
        stream_datasets: datasets.expect("required field checked above"),
        extra,
    })
}

fn validate_dsp(
    section: &Map<String, Value>,
    catalogue: &DatasetCatalogue,
    errors: &mut ValidationErrors,
) -> Option<DspSection> {
    let before = errors.0.len();
    let mut fields = Fields::new(section, "DSP.", errors);

    let region = fields.region("advertisingRegion", true);
    let advertiser_ids = fields.list("advertiserIds", true, |v| {
        ADVERTISER_ID
            .is_match(v)
            .then_some(())
            .ok_or("must be 1 to 64 letters, digits, '_' or '-'")
    });
    let entity_id = fields.string("entityId", false, |v| {
        ADVERTISER_ID
            .is_match(v)
            .then_some(())
            .ok_or("must be 1 to 64 letters, digits, '_' or '-'")
    });
    let datasets = fields.list("streamDatasets", false, |_| Ok(()));
    if let (Some(region), Some(datasets)) = (region, datasets.as_ref()) {
        fields.check_datasets("streamDatasets", datasets, region, Module::Dsp, catalogue);
    }
    let extra = fields.extra(&["advertisingRegion", "advertiserIds", "entityId", "streamDatasets"]);

    (errors.0.len() == before).then(|| DspSection {
        advertising_region: region.expect("required field checked above"),
        advertiser_ids: advertiser_ids.expect("required field checked above"),
        entity_id,
        stream_datasets: datasets.unwrap_or_default(),
        extra,
    })
}

fn account_rule(v: &str) -> Result<(), &'static str> {
    ACCOUNT.is_match(v).then_some(()).ok_or("must be 12 digits")
}

fn region_rule(v: &str) -> Result<(), &'static str> {
    AWS_REGION
        .is_match(v)
        .then_some(())
        .ok_or("must be an AWS region such as us-east-1")
}

fn name_rule(v: &str) -> Result<(), &'static str> {
    let length = v.chars().count();
    if length == 0 || length > 256 || v.chars().any(char::is_control) {
        Err("must be 1 to 256 printable characters")
    } else {
        Ok(())
    }
}

/// Checks an S3 bucket name against the general purpose bucket naming rules.
pub fn bucket_rule(v: &str) -> Result<(), &'static str> {
    if !BUCKET.is_match(v) {
        return Err("must be a valid S3 bucket name: 3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit");
    }
    if v.contains("..") || v.contains(".-") || v.contains("-.") {
        return Err("must be a valid S3 bucket name: no adjacent '.', '.-' or '-.'");
    }
    if IPV4.is_match(v) {
        return Err("must be a valid S3 bucket name, not an IP address");
    }
    if v.starts_with("xn--") || v.starts_with("sthree-") || v.ends_with("-s3alias") || v.ends_with("--ol-s3") {
        return Err("must be a valid S3 bucket name: the prefixes xn-- and sthree- and the suffixes -s3alias and --ol-s3 are reserved");
    }
    Ok(())
}

/// Describes a JSON value for an error message, truncated to stay readable.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => quote(s),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

fn quote(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() > MAX {
        let head: String = s.chars().take(MAX).collect();
        format!("{head:?}... ({} characters)", s.chars().count())
    } else {
        format!("{s:?}")
    }
}

/// Reads the fields of one JSON object and records errors under `prefix`.
struct Fields<'a, 'e> {
    object: &'a Map<String, Value>,
    prefix: &'static str,
    errors: &'e mut ValidationErrors,
}

impl<'a, 'e> Fields<'a, 'e> {
    fn new(object: &'a Map<String, Value>, prefix: &'static str, errors: &'e mut ValidationErrors) -> Self {
        Self { object, prefix, errors }
    }

    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn present(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|v| !v.is_null())
    }

    fn string(
        &mut self,
        name: &str,
        required: bool,
        rule: impl Fn(&str) -> Result<(), &'static str>,
    ) -> Option<String> {
        let path = self.path(name);
        match self.present(name) {
            None if required => {
                self.errors.push(path, "is required");
                None
            }
            None => None,
            Some(Value::String(s)) => match rule(s) {
                Ok(()) => Some(s.clone()),
                Err(reason) => {
                    self.errors.push(path, format!("{reason}, got {}", quote(s)));
                    None
                }
            },
            Some(other) => {
                self.errors.push(path, format!("must be a string, got {}", describe(other)));
                None
            }
        }
    }

    fn region(&mut self, name: &str, required: bool) -> Option<AdvertisingRegion> {
        self.string(name, required, |v| {
            v.parse::<AdvertisingRegion>()
                .map(|_| ())
                .map_err(|_| "must be NA, EU or FE")
        })
        .and_then(|v| v.parse().ok())
    }

    /// A non-empty list of unique strings, each checked by `rule`.
    fn list(
        &mut self,
        name: &str,
        required: bool,
        rule: impl Fn(&str) -> Result<(), &'static str>,
    ) -> Option<Vec<String>> {
        let path = self.path(name);
        let items = match self.present(name) {
            None if required => {
                self.errors.push(path, "is required");
                return None;
            }
            None => return None,
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.errors.push(path, format!("must be a list of strings, got {}", describe(other)));
                return None;
            }
        };
        if items.is_empty() {
            self.errors.push(path, "must not be empty");
            return None;
        }
        if items.len() > MAX_IDS {
            self.errors.push(path, format!("must have at most {MAX_IDS} entries, got {}", items.len()));
            return None;
        }

        let before = self.errors.0.len();
        let mut seen = BTreeSet::new();
        let mut values = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{index}]");
            match item {
                Value::String(s) => {
                    if let Err(reason) = rule(s) {
                        self.errors.push(item_path, format!("{reason}, got {}", quote(s)));
                    } else if !seen.insert(s.as_str()) {
                        self.errors.push(item_path, format!("duplicates an earlier entry {}", quote(s)));
                    } else {
                        values.push(s.clone());
                    }
                }
                other => self.errors.push(item_path, format!("must be a string, got {}", describe(other))),
            }
        }
        (self.errors.0.len() == before).then_some(values)
    }

    fn check_datasets(
        &mut self,
        name: &str,
        datasets: &[String],
        region: AdvertisingRegion,
        module: Module,
        catalogue: &DatasetCatalogue,
    ) {
        for (index, id) in datasets.iter().enumerate() {
            if catalogue.dataset(region, module, id).is_none() {
                let known = catalogue.dataset_ids(region, module);
                let hint = if known.is_empty() {
                    format!("the catalogue lists no {module} datasets for {region}")
                } else {
                    format!("expected one of {}", known.join(", "))
                };
                self.errors.push(
                    format!("{}[{index}]", self.path(name)),
                    format!("unknown {module} dataset {} for advertising region {region}: {hint}", quote(id)),
                );
            }
        }
    }

    fn section(&mut self, name: &str) -> Option<&'a Map<String, Value>> {
        match self.present(name) {
            None => None,
            Some(Value::Object(map)) => Some(map),
            Some(other) => {
                let path = self.path(name);
                self.errors.push(path, format!("must be an object, got {}", describe(other)));
                None
            }
        }
    }

    /// Fields outside `known`, kept as they are. Nulls are dropped.
    fn extra(&self, known: &[&str]) -> BTreeMap<String, Value> {
        self.object
            .iter()
            .filter(|(k, v)| !known.contains(&k.as_str()) && !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests;

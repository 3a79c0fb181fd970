//! The tenant record: one row of the tenant table.
//!
//! The field names are those of the AMC QuickStart's `CustomerConfig` rows, so
//! existing rows keep working. Build a [`TenantRecord`] with
//! [`crate::validate`], which checks every rule; deserializing directly skips
//! the checks and is meant only for records that were validated before.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalogue::AdvertisingRegion;
use crate::module::Module;

/// A validated tenant row.
///
/// The doc comments below are the field reference: they become the
/// descriptions of the JSON Schema that `tps schema` prints and the tables
/// of `docs/tenant-record.md`. The `regex` attributes name the validator's
/// own patterns, so the schema cannot drift from [`crate::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    title = "Tenant record",
    description = "One row of the tps-{team}-CustomerConfig-{env} table. Unknown fields are kept and ignored."
)]
pub struct TenantRecord {
    /// Tenant id and partition key: 3 to 40 lowercase letters, digits or
    /// `-`, starting and ending with a letter or digit. Used in key aliases
    /// and execution names, and unique across rows.
    #[schemars(regex = "crate::validate::TENANT_ID")]
    pub customer_id: String,
    /// Display name and sort key: 1 to 256 characters, no control
    /// characters. Changing it writes a second row with the same
    /// `customerId`, which is rejected as a duplicate.
    #[schemars(length(min = 1, max = 256))]
    pub customer_name: String,
    /// Prefix of the tenant's resource names: 1 to 20 lowercase letters,
    /// digits or `-`. It cannot change while the tenant has modules.
    #[schemars(regex = "crate::validate::PREFIX")]
    pub customer_prefix: String,
    pub endemic_type: EndemicType,
    /// Enables the Amazon Marketing Cloud module.
    #[serde(rename = "AMC", default, skip_serializing_if = "Option::is_none")]
    pub amc: Option<AmcSection>,
    /// Enables the Sponsored Ads module.
    #[serde(rename = "SponsoredAds", default, skip_serializing_if = "Option::is_none")]
    pub sponsored_ads: Option<SponsoredAdsSection>,
    /// Enables the DSP module.
    #[serde(rename = "DSP", default, skip_serializing_if = "Option::is_none")]
    pub dsp: Option<DspSection>,
    /// Retention of buckets and keys when the row is deleted. `RETAIN` when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Fields this service does not use. They are kept and ignored.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Whether the advertiser sells on Amazon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EndemicType {
    /// The advertiser sells products on Amazon.
    Endemic,
    /// The advertiser does not sell on Amazon.
    NonEndemic,
}

/// Retention of the tenant's buckets and keys at offboarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Retention {
    /// Removes access grants and stream queues, keeps buckets and keys.
    #[default]
    Retain,
    /// Also deletes the buckets that are empty and schedules their keys for
    /// deletion in 30 days. Buckets with objects are kept and reported.
    Delete,
}

/// The `AMC` section: a results bucket encrypted with a tenant key, shared
/// with the AMC accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmcSection {
    /// AWS account (12 digits) from which AMC delivers results. It may write
    /// to the bucket and use the key through S3.
    #[schemars(regex = "crate::validate::ACCOUNT")]
    pub amc_orange_aws_account: String,
    /// Second AWS account (12 digits), with the same access as the orange
    /// account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex = "crate::validate::ACCOUNT")]
    pub amc_green_aws_account: Option<String>,
    /// Results bucket: a valid S3 general purpose bucket name (no `..`, `.-`
    /// or `-.`, not an IPv4 address, not starting with `xn--` or `sthree-`,
    /// not ending with `-s3alias` or `--ol-s3`). When absent:
    /// `tps-{customerPrefix}-amc-{account}-{region}`. The functions' IAM
    /// policy allows only buckets named `tps-*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex = "crate::validate::BUCKET")]
    pub amc_s3_bucket_name: Option<String>,
    /// Name of the AMC dataset: 1 to 256 characters, no control characters.
    /// Stored, not used for provisioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub amc_dataset_name: Option<String>,
    /// Name of the team that owns the AMC instance, with the rule of
    /// `amcDatasetName`. Stored, not used for provisioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub amc_team_name: Option<String>,
    /// `https://` URL of the AMC instance's API. Stored, not used for
    /// provisioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex = "crate::validate::HTTPS_URL")]
    pub amc_api_endpoint: Option<String>,
    /// AWS region of the AMC instance, such as `us-east-1`, where the key and
    /// bucket are created. When absent: the region the AMC function runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex = "crate::validate::AWS_REGION")]
    pub amc_region: Option<String>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The `SponsoredAds` section: one Amazon SQS queue, with its dead-letter
/// queue, per Marketing Stream dataset, in the AWS region of the
/// advertising region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SponsoredAdsSection {
    pub advertising_region: AdvertisingRegion,
    /// Amazon Ads profile ids, each 1 to 20 digits, with no duplicates.
    #[schemars(length(min = 1, max = 100), inner(regex = "crate::validate::DIGITS"))]
    pub profile_ids: Vec<String>,
    /// Marketing Stream dataset ids, each listed for `SponsoredAds` in
    /// `advertisingRegion` by the dataset catalogue, with no duplicates.
    #[schemars(length(min = 1, max = 100))]
    pub stream_datasets: Vec<String>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The `DSP` section: a report bucket with a prefix per advertiser, and
/// optional Marketing Stream queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DspSection {
    pub advertising_region: AdvertisingRegion,
    /// DSP advertiser ids, each 1 to 64 letters, digits, `_` or `-`, with
    /// no duplicates. Each gets the prefix `advertisers/{id}/` in the
    /// report bucket.
    #[schemars(length(min = 1, max = 100), inner(regex = "crate::validate::ADVERTISER_ID"))]
    pub advertiser_ids: Vec<String>,
    /// DSP entity id: 1 to 64 letters, digits, `_` or `-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex = "crate::validate::ADVERTISER_ID")]
    pub entity_id: Option<String>,
    /// Marketing Stream dataset ids, each listed for `DSP` in
    /// `advertisingRegion` by the dataset catalogue, with no duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 100))]
    pub stream_datasets: Vec<String>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl TenantRecord {
    /// The modules this record enables, in [`Module::ALL`] order.
    pub fn modules(&self) -> Vec<Module> {
        Module::ALL
            .into_iter()
            .filter(|module| self.enables(*module))
            .collect()
    }

    pub fn enables(&self, module: Module) -> bool {
        match module {
            Module::Amc => self.amc.is_some(),
            Module::SponsoredAds => self.sponsored_ads.is_some(),
            Module::Dsp => self.dsp.is_some(),
        }
    }

    pub fn retention(&self) -> Retention {
        self.retention.unwrap_or_default()
    }

    /// A copy without the fields this service does not use. Execution input
    /// carries this copy, so unknown fields cannot push it past the 256 KB
    /// limit of Step Functions payloads.
    pub fn without_extras(&self) -> TenantRecord {
        let mut copy = self.clone();
        copy.extra.clear();
        if let Some(amc) = copy.amc.as_mut() {
            amc.extra.clear();
        }
        if let Some(section) = copy.sponsored_ads.as_mut() {
            section.extra.clear();
        }
        if let Some(section) = copy.dsp.as_mut() {
            section.extra.clear();
        }
        copy
    }
}

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "Tenant record", description = "One row of the tps-{team}-CustomerConfig-{env} table.")]
pub struct TenantRecord {
    /// Tenant id: 3 to 40 characters of lowercase letters, digits and `-`,
    /// starting and ending with a letter or digit. Partition key.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"))]
    pub customer_id: String,
    /// Display name, 1 to 256 printable characters. Sort key.
    #[schemars(length(min = 1, max = 256))]
    pub customer_name: String,
    /// Prefix of the tenant's resource names: 1 to 20 characters of lowercase
    /// letters, digits and `-`.
    #[schemars(regex(pattern = r"^[a-z0-9-]{1,20}$"))]
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
    /// Retention policy for buckets and keys at offboarding, `RETAIN` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Fields this service does not use. They are kept and ignored.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EndemicType {
    Endemic,
    NonEndemic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Retention {
    /// Offboarding removes access grants and stream queues, keeps buckets and keys.
    #[default]
    Retain,
    /// Offboarding also schedules key deletion and deletes empty buckets.
    Delete,
}

/// The `AMC` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmcSection {
    /// AWS account (12 digits) from which AMC delivers results.
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub amc_orange_aws_account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub amc_green_aws_account: Option<String>,
    /// Results bucket; derived from the prefix, account and region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amc_s3_bucket_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amc_dataset_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amc_team_name: Option<String>,
    /// HTTPS URL of the AMC instance's API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amc_api_endpoint: Option<String>,
    /// AWS region of the AMC instance, such as `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amc_region: Option<String>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The `SponsoredAds` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SponsoredAdsSection {
    pub advertising_region: AdvertisingRegion,
    /// Amazon Ads profile ids, as strings of digits.
    #[schemars(length(min = 1))]
    pub profile_ids: Vec<String>,
    /// Marketing Stream dataset ids, each listed for the advertising region.
    #[schemars(length(min = 1))]
    pub stream_datasets: Vec<String>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The `DSP` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DspSection {
    pub advertising_region: AdvertisingRegion,
    /// DSP advertiser ids; each gets a prefix in the report bucket.
    #[schemars(length(min = 1))]
    pub advertiser_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
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

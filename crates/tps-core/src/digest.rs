//! Config digests: a SHA-256 over the canonical JSON of the fields that
//! drive provisioning. Unknown fields and nulls do not change a digest, and
//! neither does key order, so re-writing a row with the same config gives the
//! same digest.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::module::Module;
use crate::tenant::TenantRecord;

/// Hex SHA-256 of a tenant's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigDigest(pub String);

impl ConfigDigest {
    /// Digest of everything that drives provisioning or offboarding.
    pub fn of_record(record: &TenantRecord) -> Self {
        let canonical = record.without_extras();
        Self::of_value(&serde_json::to_value(&canonical).expect("a tenant record serializes"))
    }

    /// Digest of what one module provisions from: the tenant id, the naming
    /// prefix and the module's section. `None` when the module is disabled.
    pub fn of_module(record: &TenantRecord, module: Module) -> Option<Self> {
        let canonical = record.without_extras();
        let section = match module {
            Module::Amc => serde_json::to_value(canonical.amc.as_ref()?),
            Module::SponsoredAds => serde_json::to_value(canonical.sponsored_ads.as_ref()?),
            Module::Dsp => serde_json::to_value(canonical.dsp.as_ref()?),
        }
        .expect("a tenant section serializes");
        let value = serde_json::json!({
            "customerId": canonical.customer_id,
            "customerPrefix": canonical.customer_prefix,
            "module": module,
            "section": section,
        });
        Some(Self::of_value(&value))
    }

    fn of_value(value: &serde_json::Value) -> Self {
        // serde_json's map is a BTreeMap (the preserve_order feature is off),
        // so to_string emits keys in sorted order.
        let canonical = serde_json::to_string(value).expect("JSON values serialize");
        Self(hex::encode(Sha256::digest(canonical.as_bytes())))
    }

    /// The first 16 hex digits, used in execution names and deduplication ids.
    pub fn short(&self) -> &str {
        &self.0[..16.min(self.0.len())]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConfigDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// First `len` hex digits of the SHA-256 of `input`.
pub fn short_hash(input: &str, len: usize) -> String {
    let full = hex::encode(Sha256::digest(input.as_bytes()));
    full[..len.min(full.len())].to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{validate, DatasetCatalogue};

    fn record(value: serde_json::Value) -> TenantRecord {
        validate(&value, &DatasetCatalogue::embedded()).expect("valid row")
    }

    fn base() -> serde_json::Value {
        json!({
            "customerId": "acme-001", "customerName": "Acme", "customerPrefix": "acme",
            "endemicType": "ENDEMIC",
            "AMC": {"amcOrangeAwsAccount": "111122223333", "amcRegion": "us-east-1"},
            "SponsoredAds": {"advertisingRegion": "NA", "profileIds": ["1"], "streamDatasets": ["sp-traffic"]}
        })
    }

    #[test]
    fn digest_is_stable_and_hex() {
        let a = ConfigDigest::of_record(&record(base()));
        let b = ConfigDigest::of_record(&record(base()));
        assert_eq!(a, b);
        assert_eq!(a.as_str().len(), 64);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.short().len(), 16);
    }

    #[test]
    fn digest_ignores_unknown_fields_and_nulls() {
        let mut noisy = base();
        noisy["bucketExists"] = json!("true");
        noisy["AMC"]["amcApiEndpoint"] = json!(null);
        noisy["AMC"]["someNote"] = json!("x");
        assert_eq!(
            ConfigDigest::of_record(&record(base())),
            ConfigDigest::of_record(&record(noisy))
        );
    }

    #[test]
    fn digest_changes_with_config() {
        let mut changed = base();
        changed["AMC"]["amcOrangeAwsAccount"] = json!("999988887777");
        assert_ne!(
            ConfigDigest::of_record(&record(base())),
            ConfigDigest::of_record(&record(changed))
        );
    }

    #[test]
    fn module_digest_tracks_only_its_section() {
        let mut changed = base();
        changed["SponsoredAds"]["profileIds"] = json!(["1", "2"]);
        changed["customerName"] = json!("Acme Renamed");
        let (old, new) = (record(base()), record(changed));
        assert_eq!(ConfigDigest::of_module(&old, Module::Amc), ConfigDigest::of_module(&new, Module::Amc));
        assert_ne!(
            ConfigDigest::of_module(&old, Module::SponsoredAds),
            ConfigDigest::of_module(&new, Module::SponsoredAds)
        );
        assert_eq!(ConfigDigest::of_module(&old, Module::Dsp), None);
    }

    #[test]
    fn module_digest_changes_with_prefix() {
        let mut changed = base();
        changed["customerPrefix"] = json!("acme2");
        assert_ne!(
            ConfigDigest::of_module(&record(base()), Module::Amc),
            ConfigDigest::of_module(&record(changed), Module::Amc)
        );
    }
}

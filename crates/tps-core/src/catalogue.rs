//! The Marketing Stream dataset catalogue: for each advertising region, the
//! datasets a module may subscribe to and the Amazon SNS topics that deliver
//! them. The catalogue is data (`catalogue/marketing-stream-datasets.json`),
//! loaded at start.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::module::Module;

/// The catalogue file as it ships in the repository, embedded as the default
/// when no `TPS_DATASET_CATALOGUE` path is configured.
pub const EMBEDDED_CATALOGUE: &str =
    include_str!("../../../catalogue/marketing-stream-datasets.json");

/// An Amazon Ads advertising region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum AdvertisingRegion {
    /// North America.
    NA,
    /// Europe.
    EU,
    /// Far East.
    FE,
}

impl AdvertisingRegion {
    pub const ALL: [AdvertisingRegion; 3] =
        [AdvertisingRegion::NA, AdvertisingRegion::EU, AdvertisingRegion::FE];

    pub fn as_str(self) -> &'static str {
        match self {
            AdvertisingRegion::NA => "NA",
            AdvertisingRegion::EU => "EU",
            AdvertisingRegion::FE => "FE",
        }
    }
}

impl fmt::Display for AdvertisingRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AdvertisingRegion {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "NA" => Ok(AdvertisingRegion::NA),
            "EU" => Ok(AdvertisingRegion::EU),
            "FE" => Ok(AdvertisingRegion::FE),
            _ => Err(()),
        }
    }
}

/// One dataset of one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub module: Module,
    /// ARN pattern of the Amazon SNS topics that deliver this dataset; the
    /// ingress queue accepts messages only from a matching `aws:SourceArn`.
    pub sns_source_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionCatalogue {
    /// The AWS region Marketing Stream delivers from for this advertising region.
    pub aws_region: String,
    pub datasets: BTreeMap<String, Dataset>,
}

/// The whole catalogue file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetCatalogue {
    #[serde(default)]
    pub source: Option<String>,
    /// Role Amazon uses to review a subscription's queue attributes.
    pub reviewer_role_arn: String,
    #[serde(default)]
    pub subscriber_role_arn: Option<String>,
    pub regions: BTreeMap<AdvertisingRegion, RegionCatalogue>,
}

/// Error loading the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("failed to read the dataset catalogue {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid dataset catalogue {path}: {source}")]
    Parse { path: String, source: serde_json::Error },
}

impl DatasetCatalogue {
    /// Parses a catalogue; `origin` names the file in errors.
    pub fn from_json(json: &str, origin: &str) -> Result<Self, CatalogueError> {
        serde_json::from_str(json).map_err(|source| CatalogueError::Parse {
            path: origin.to_string(),
            source,
        })
    }

    /// Loads the catalogue from `path`, or the embedded copy when `path` is `None`.
    pub fn load(path: Option<&str>) -> Result<Self, CatalogueError> {
        match path {
            None => Self::from_json(EMBEDDED_CATALOGUE, "embedded catalogue"),
            Some(path) => {
                let json = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
                    path: path.to_string(),
                    source,
                })?;
                Self::from_json(&json, path)
            }
        }
    }

    /// The embedded catalogue. Panics only if the file committed to the
    /// repository is invalid, which a unit test rules out.
    pub fn embedded() -> Self {
        Self::load(None).expect("the embedded dataset catalogue is valid JSON")
    }

    /// The dataset `id` for `module` in `region`, if the catalogue lists it.
    pub fn dataset(&self, region: AdvertisingRegion, module: Module, id: &str) -> Option<&Dataset> {
        self.regions
            .get(&region)?
            .datasets
            .get(id)
            .filter(|dataset| dataset.module == module)
    }

    /// The dataset ids `module` may request in `region`, sorted.
    pub fn dataset_ids(&self, region: AdvertisingRegion, module: Module) -> Vec<&str> {
        self.regions
            .get(&region)
            .map(|r| {
                r.datasets
                    .iter()
                    .filter(|(_, d)| d.module == module)
                    .map(|(id, _)| id.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_lists_every_region() {
        let catalogue = DatasetCatalogue::embedded();
        for region in AdvertisingRegion::ALL {
            assert!(
                !catalogue.dataset_ids(region, Module::SponsoredAds).is_empty(),
                "no Sponsored Ads datasets for {region}"
            );
        }
    }

    #[test]
    fn dataset_lookup_checks_module() {
        let catalogue = DatasetCatalogue::embedded();
        let sp = catalogue.dataset(AdvertisingRegion::EU, Module::SponsoredAds, "sp-traffic");
        assert_eq!(sp.unwrap().sns_source_arn, "arn:aws:sns:eu-west-1:668473351658:*");
        assert!(catalogue.dataset(AdvertisingRegion::EU, Module::Dsp, "sp-traffic").is_none());
        assert!(catalogue.dataset(AdvertisingRegion::NA, Module::SponsoredAds, "nope").is_none());
    }
}

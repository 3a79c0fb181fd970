//! The provisioning modules a tenant row can enable.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A provisioning module. The serialized form is the tenant record's section
/// name (`AMC`, `SponsoredAds`, `DSP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Module {
    #[serde(rename = "AMC")]
    Amc,
    #[serde(rename = "SponsoredAds")]
    SponsoredAds,
    #[serde(rename = "DSP")]
    Dsp,
}

impl Module {
    /// All modules, in the order they are listed in the tenant record.
    pub const ALL: [Module; 3] = [Module::Amc, Module::SponsoredAds, Module::Dsp];

    /// The tenant record section that enables this module.
    pub fn section(self) -> &'static str {
        match self {
            Module::Amc => "AMC",
            Module::SponsoredAds => "SponsoredAds",
            Module::Dsp => "DSP",
        }
    }

    /// The short lowercase form used in resource names and tags.
    pub fn slug(self) -> &'static str {
        match self {
            Module::Amc => "amc",
            Module::SponsoredAds => "sa",
            Module::Dsp => "dsp",
        }
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.section())
    }
}

/// Error for a string that names no module.
#[derive(Debug, thiserror::Error)]
#[error("unknown module {0:?}: expected AMC, SponsoredAds or DSP")]
pub struct UnknownModule(pub String);

impl FromStr for Module {
    type Err = UnknownModule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "AMC" => Ok(Module::Amc),
            "SponsoredAds" => Ok(Module::SponsoredAds),
            "DSP" => Ok(Module::Dsp),
            other => Err(UnknownModule(other.to_string())),
        }
    }
}

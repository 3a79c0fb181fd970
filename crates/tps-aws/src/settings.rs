//! Function settings from environment variables.

use tps_core::catalogue::{CatalogueError, DatasetCatalogue};
use tps_core::naming::StackNames;

pub const TEAM: &str = "TPS_TEAM";
pub const ENV: &str = "TPS_ENV";
pub const TENANT_TABLE: &str = "TPS_TENANT_TABLE";
pub const STATUS_TABLE: &str = "TPS_STATUS_TABLE";
pub const EVENTS_TOPIC_ARN: &str = "TPS_EVENTS_TOPIC_ARN";
pub const STATE_MACHINE_ARN: &str = "TPS_STATE_MACHINE_ARN";
/// Optional path of the dataset catalogue; the embedded copy when unset.
pub const DATASET_CATALOGUE: &str = "TPS_DATASET_CATALOGUE";

/// What every function reads at start.
#[derive(Debug, Clone)]
pub struct FunctionSettings {
    pub team: String,
    pub env: String,
    pub tenant_table: String,
    pub status_table: String,
    pub events_topic_arn: String,
    /// Set for the stream function only.
    pub state_machine_arn: Option<String>,
    pub catalogue: DatasetCatalogue,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("missing environment variable {0}: set it in the function's configuration (the CDK stack and tps-local set it)")]
    Missing(&'static str),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
}

impl FunctionSettings {
    /// Reads the settings through `lookup` (`std::env::var` in a Lambda);
    /// `needs_state_machine` makes `TPS_STATE_MACHINE_ARN` required.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        needs_state_machine: bool,
    ) -> Result<Self, SettingsError> {
        let required = |name: &'static str| {
            lookup(name).filter(|v| !v.is_empty()).ok_or(SettingsError::Missing(name))
        };
        let state_machine_arn = if needs_state_machine {
            Some(required(STATE_MACHINE_ARN)?)
        } else {
            lookup(STATE_MACHINE_ARN)
        };
        let catalogue_path = lookup(DATASET_CATALOGUE).filter(|v| !v.is_empty());
        Ok(Self {
            team: required(TEAM)?,
            env: required(ENV)?,
            tenant_table: required(TENANT_TABLE)?,
            status_table: required(STATUS_TABLE)?,
            events_topic_arn: required(EVENTS_TOPIC_ARN)?,
            state_machine_arn,
            catalogue: DatasetCatalogue::load(catalogue_path.as_deref())?,
        })
    }

    pub fn from_env(needs_state_machine: bool) -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok(), needs_state_machine)
    }

    pub fn stack_names(&self) -> StackNames {
        StackNames::new(self.team.clone(), self.env.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn missing_variable_is_named() {
        let vars: HashMap<&str, &str> = HashMap::from([(TEAM, "t"), (ENV, "e"), (TENANT_TABLE, "x")]);
        let error = FunctionSettings::from_lookup(|k| vars.get(k).map(|v| v.to_string()), false).unwrap_err();
        assert!(error.to_string().contains("TPS_STATUS_TABLE"), "{error}");
    }

    #[test]
    fn stream_function_needs_state_machine() {
        let vars: HashMap<&str, &str> = HashMap::from([
            (TEAM, "t"), (ENV, "e"), (TENANT_TABLE, "a"), (STATUS_TABLE, "b"), (EVENTS_TOPIC_ARN, "c"),
        ]);
        let lookup = |k: &str| vars.get(k).map(|v| v.to_string());
        assert!(FunctionSettings::from_lookup(lookup, false).is_ok());
        let error = FunctionSettings::from_lookup(lookup, true).unwrap_err();
        assert!(error.to_string().contains("TPS_STATE_MACHINE_ARN"), "{error}");
    }
}

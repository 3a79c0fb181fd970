//! `ddk.json`: the team, pipeline and environments the stack is deployed
//! for. The CDK app and the local runtime read the same file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::naming::StackNames;

pub const DEFAULT_TEAM: &str = "demoteam";
pub const DEFAULT_PIPELINE: &str = "cmpl";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DdkConfig {
    #[serde(default)]
    pub tps_parameters: TpsParameters,
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TpsParameters {
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub pipeline: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub resource_prefix: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("failed to read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid JSON in {path}: {source}")]
    Parse { path: String, source: serde_json::Error },
    #[error("invalid {field} {value:?} in {path}: must be 1 to {max} lowercase letters or digits")]
    Invalid { path: String, field: &'static str, value: String, max: usize },
}

impl DdkConfig {
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| SettingsError::Read { path: display.clone(), source })?;
        let config: DdkConfig =
            serde_json::from_str(&text).map_err(|source| SettingsError::Parse { path: display.clone(), source })?;
        check_name(&display, "tps_parameters.team", &config.team(), 20)?;
        for (key, env) in &config.environments {
            check_name(&display, "environment name", env.name.as_deref().unwrap_or(key), 10)?;
        }
        Ok(config)
    }

    /// The team, `demoteam` when absent or empty.
    pub fn team(&self) -> String {
        non_empty(self.tps_parameters.team.as_deref()).unwrap_or(DEFAULT_TEAM).to_string()
    }

    /// The pipeline name, `cmpl` when absent or empty.
    pub fn pipeline(&self) -> String {
        non_empty(self.tps_parameters.pipeline.as_deref()).unwrap_or(DEFAULT_PIPELINE).to_string()
    }

    /// The stack names for environment `env` (its `name`, or the key).
    pub fn stack_names(&self, env: &str) -> StackNames {
        let name = self
            .environments
            .get(env)
            .and_then(|e| non_empty(e.name.as_deref()))
            .unwrap_or(env);
        StackNames::new(self.team(), name)
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

fn check_name(path: &str, field: &'static str, value: &str, max: usize) -> Result<(), SettingsError> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(SettingsError::Invalid { path: path.to_string(), field, value: value.to_string(), max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_absent_or_empty() {
        let config: DdkConfig = serde_json::from_str(r#"{"tps_parameters": {"team": ""}}"#).unwrap();
        assert_eq!(config.team(), "demoteam");
        assert_eq!(config.pipeline(), "cmpl");
        assert_eq!(config.stack_names("dev").tenant_table(), "tps-demoteam-CustomerConfig-dev");
    }

    #[test]
    fn invalid_team_is_rejected() {
        let dir = std::env::temp_dir().join(format!("tps-ddk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ddk.json");
        std::fs::write(&path, r#"{"tps_parameters": {"team": "Team_A"}}"#).unwrap();
        let error = DdkConfig::load(&path).unwrap_err().to_string();
        assert!(error.contains("tps_parameters.team"), "{error}");
        assert!(error.contains("Team_A"), "{error}");
    }
}

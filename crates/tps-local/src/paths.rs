//! Files the local runtime reads from the repository.

use std::path::{Path, PathBuf};

/// The state machine definition, relative to the repository root.
pub const STATE_MACHINE_FILE: &str = "infra/statemachine/onboarding.asl.json";

/// Finds the repository root: `TPS_REPO_ROOT` when set, else the first
/// directory upwards from the current one, then from this crate's source,
/// that contains the state machine definition.
pub fn repo_root() -> Option<PathBuf> {
    if let Ok(root) = std::env::var("TPS_REPO_ROOT") {
        return Some(PathBuf::from(root));
    }
    let starts = [
        std::env::current_dir().ok(),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
    ];
    starts
        .into_iter()
        .flatten()
        .find_map(|start| start.ancestors().find(|dir| dir.join(STATE_MACHINE_FILE).is_file()).map(Path::to_path_buf))
}

/// The moto_server executable: `TPS_MOTO_SERVER` when set, else
/// `.venv/bin/moto_server` under the repository root.
pub fn moto_server(root: &Path) -> PathBuf {
    std::env::var_os("TPS_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/moto_server"))
}

//! Results of the criterion benchmarks, read from criterion's output
//! directory (`<dir>/<benchmark>/new/estimates.json`).

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One benchmark's estimates, in nanoseconds per iteration.
#[derive(Debug, Clone, Serialize)]
pub struct HotPath {
    pub id: String,
    pub median_ns: f64,
    pub median_low_ns: f64,
    pub median_high_ns: f64,
    pub mean_ns: f64,
}

#[derive(Deserialize)]
struct BenchmarkInfo {
    full_id: String,
}

/// Reads every benchmark under `dir`, sorted by id. A missing directory
/// gives an empty list.
pub fn read(dir: &Path) -> anyhow::Result<Vec<HotPath>> {
    let mut results = Vec::new();
    if dir.is_dir() {
        collect(dir, &mut results, 0)?;
    }
    results.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(results)
}

/// Depth limit of the walk; criterion nests group, function and parameter.
const MAX_DEPTH: usize = 4;

fn collect(dir: &Path, results: &mut Vec<HotPath>, depth: usize) -> anyhow::Result<()> {
    let new = dir.join("new");
    if new.join("estimates.json").is_file() && new.join("benchmark.json").is_file() {
        results.push(parse(&new)?);
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() && path.file_name().is_some_and(|name| name != "report") {
            collect(&path, results, depth + 1)?;
        }
    }
    Ok(())
}

fn parse(new: &Path) -> anyhow::Result<HotPath> {
    let info: BenchmarkInfo = read_json(&new.join("benchmark.json"))?;
    let estimates: Value = read_json(&new.join("estimates.json"))?;
    let field = |statistic: &str, path: &[&str]| -> anyhow::Result<f64> {
        let mut value = &estimates[statistic];
        for key in path {
            value = &value[*key];
        }
        value.as_f64().with_context(|| format!("{}: no {statistic}.{}", new.display(), path.join(".")))
    };
    Ok(HotPath {
        id: info.full_id,
        median_ns: field("median", &["point_estimate"])?,
        median_low_ns: field("median", &["confidence_interval", "lower_bound"])?,
        median_high_ns: field("median", &["confidence_interval", "upper_bound"])?,
        mean_ns: field("mean", &["point_estimate"])?,
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not the JSON criterion writes", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_estimates_of_nested_benchmarks() {
        let root = std::env::temp_dir().join(format!("tps-bench-criterion-{}", std::process::id()));
        let new = root.join("stream_batch").join("decode_validate_10").join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), r#"{"full_id":"stream_batch/decode_validate_10","group_id":"stream_batch"}"#).unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"mean":{"point_estimate":110.0},"median":{"point_estimate":100.0,"confidence_interval":{"lower_bound":95.0,"upper_bound":105.0}}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(root.join("report")).unwrap();

        let results = read(&root).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].id, "stream_batch/decode_validate_10");
        assert_eq!(results[0].median_ns, 100.0);
        assert_eq!(results[0].median_high_ns, 105.0);
        assert_eq!(results[0].mean_ns, 110.0);
    }

    #[test]
    fn missing_directory_is_empty() {
        assert!(read(Path::new("/nonexistent/criterion")).unwrap().is_empty());
    }
}

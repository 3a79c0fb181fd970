//! Deployment sizes: each bootstrap binary and its zip archive.

use std::io::{Cursor, Write};
use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use tps_core::naming::FunctionKind;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::init::{binary_name, bootstrap_path};

#[derive(Debug, Clone, Serialize)]
pub struct FunctionSize {
    pub function: String,
    pub binary: String,
    pub binary_bytes: u64,
    pub zip_bytes: u64,
}

/// Sizes of every function's bootstrap under `lambda_dir`.
pub fn measure(lambda_dir: &Path) -> anyhow::Result<Vec<FunctionSize>> {
    FunctionKind::ALL
        .iter()
        .map(|kind| {
            let path = bootstrap_path(lambda_dir, *kind);
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(FunctionSize {
                function: kind.label().to_string(),
                binary: binary_name(*kind).to_string(),
                binary_bytes: bytes.len() as u64,
                zip_bytes: zip_bootstrap(&bytes)?.len() as u64,
            })
        })
        .collect()
}

/// Packs a deployment package: one executable `bootstrap` entry, deflated at
/// the zip crate's default level.
pub fn zip_bootstrap(binary: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated).unix_permissions(0o755);
    writer.start_file("bootstrap", options).context("zip: start bootstrap")?;
    writer.write_all(binary).context("zip: write bootstrap")?;
    Ok(writer.finish().context("zip: finish")?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn zip_holds_an_executable_bootstrap() {
        let binary: Vec<u8> = (0..100_000u32).map(|i| (i % 7) as u8).collect();
        let archive = zip_bootstrap(&binary).unwrap();
        assert!(archive.len() < binary.len() / 10, "repetitive input must compress");

        let mut reader = zip::ZipArchive::new(Cursor::new(archive)).unwrap();
        let mut file = reader.by_name("bootstrap").unwrap();
        assert_eq!(file.unix_mode().map(|mode| mode & 0o777), Some(0o755));
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        assert_eq!(content, binary);
    }
}

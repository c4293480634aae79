//! Published reports under `reports/PERIOD/`: the folder always holds the current version; a
//! superseded version stays in `reports/PERIOD/vN/` with its reason.

pub mod model;

use std::path::{Path, PathBuf};

use model::PublicResults;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("无法写入报告 {path}: {source}")]
pub struct ReportError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes a publication's files; each version it superseded is kept in `vN/`.
pub fn write_publication(
    reports_dir: &Path,
    current: &PublicResults,
    superseded: &[PublicResults],
) -> Result<PathBuf, ReportError> {
    let dir = reports_dir.join(&current.period);
    for old in superseded {
        write_files(&dir.join(format!("v{}", old.version)), old)?;
    }
    write_files(&dir, current)?;
    Ok(dir)
}

fn write_files(dir: &Path, results: &PublicResults) -> Result<(), ReportError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ReportError { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let json = serde_json::to_string_pretty(results).map_err(|e| ReportError {
        path: dir.to_owned(),
        source: std::io::Error::other(e),
    })?;
    let path = dir.join("results.json");
    write_atomically(&path, json.as_bytes()).map_err(io(&path))?;
    if let Some(reason) = &results.reason {
        let path = dir.join("REASON.txt");
        let text = format!(
            "第 {} 版,更正第 {} 版。原因:{reason}\n",
            results.version,
            results.supersedes.unwrap_or_default()
        );
        write_atomically(&path, text.as_bytes()).map_err(io(&path))?;
    }
    Ok(())
}

/// Writes to a temporary file beside the target, then renames it, so a reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

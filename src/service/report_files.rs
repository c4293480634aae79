//! The files `campaign publish` wrote under `reports/PERIOD/`, for the dashboard's download
//! buttons and inline charts. Only the names docs/interface.md §4.1 lists can be asked for, so a
//! request can never reach outside the folder.

use std::path::{Path, PathBuf};

use crate::domain::Period;

/// The top-level files of a publication, in the order the dashboard offers them.
pub const TOP_FILES: [&str; 5] = [
    "index.html",
    "method.html",
    "results.csv",
    "results.xlsx",
    "results.json",
];

/// A file that can be served, with its content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    /// Relative to `reports/PERIOD/`: `results.csv`, `charts/funnel-g1.svg`.
    pub name: String,
    pub content_type: &'static str,
}

/// The content type of an allowed name, or `None` for any other name (including `..`, other
/// folders, other extensions).
pub fn allowed(name: &str) -> Option<ReportFile> {
    let content_type = match name {
        "index.html" | "method.html" => "text/html; charset=utf-8",
        "results.csv" => "text/csv; charset=utf-8",
        "results.json" => "application/json",
        "results.xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => {
            let chart = name.strip_prefix("charts/")?;
            let (stem, ext) = chart.rsplit_once('.')?;
            let safe = !stem.is_empty()
                && stem
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            match (safe, ext) {
                (true, "svg") => "image/svg+xml",
                (true, "png") => "image/png",
                _ => return None,
            }
        }
    };
    Some(ReportFile {
        name: name.to_owned(),
        content_type,
    })
}

/// Where an allowed file of `period` lives.
pub fn path_of(reports_dir: &Path, period: &Period, file: &ReportFile) -> PathBuf {
    reports_dir.join(period.to_string()).join(&file.name)
}

/// The files of `period`'s current publication that exist: the top files, then the charts by
/// name (SVG and PNG).
pub fn existing(reports_dir: &Path, period: &Period) -> Vec<ReportFile> {
    let dir = reports_dir.join(period.to_string());
    let mut files: Vec<ReportFile> = TOP_FILES
        .iter()
        .filter(|name| dir.join(name).is_file())
        .filter_map(|name| allowed(name))
        .collect();
    let mut charts: Vec<ReportFile> = std::fs::read_dir(dir.join("charts"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|name| allowed(&format!("charts/{name}")))
                .collect()
        })
        .unwrap_or_default();
    charts.sort_by(|a, b| a.name.cmp(&b.name));
    files.extend(charts);
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_published_names_are_allowed() {
        assert_eq!(
            allowed("results.xlsx").map(|f| f.content_type),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        );
        assert_eq!(
            allowed("charts/ranking-g1-1.svg").map(|f| f.content_type),
            Some("image/svg+xml")
        );
        for bad in [
            "../qiping.db",
            "charts/../../x.svg",
            "charts/a/b.png",
            "charts/.svg",
            "v1/results.csv",
            "REASON.txt",
            "charts/x.svg.exe",
        ] {
            assert_eq!(allowed(bad), None, "{bad}");
        }
    }
}

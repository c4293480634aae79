//! The files `campaign publish` writes under `reports/PERIOD/` exist and parse: the CSV round-trips
//! with its BOM, the workbook reads back, every SVG is well-formed XML and every PNG decodes at its
//! size; hostile unit names stay inert; a 300-unit campaign is split into legible pages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};
use qiping::report::model::{PublicResults, PublicUnit};
use qiping::report::synthetic::{
    SyntheticGroup, city_groups, periods_until, standard_method, synthetic_results,
};
use qiping::report::{Participation, Publication, write_publication};

fn small_groups() -> Vec<SyntheticGroup> {
    vec![
        SyntheticGroup {
            name: "部门".into(),
            kind: "department".into(),
            units: 14,
        },
        SyntheticGroup {
            name: "基层站所".into(),
            kind: "station".into(),
            units: 8,
        },
    ]
}

/// Writes `current` with the earlier half-years of `history`, into a fresh folder.
fn publish(current: &PublicResults, history: &[PublicResults]) -> (tempfile::TempDir, PathBuf) {
    let reports = tempfile::tempdir().unwrap();
    let publication = Publication {
        results: current,
        participation: Some(Participation {
            invited: 1200,
            completed: 845,
            response_rate: Some(845.0 / 1200.0),
            unopenable_excluded: None,
        }),
        history,
        bottom_n: 5,
        method: &standard_method().unwrap(),
    };
    let dir = write_publication(reports.path(), &publication, &[]).unwrap();
    // To look at the charts: QIPING_REPORT_OUT=/some/folder cargo test --test it report::
    if let Some(out) = std::env::var_os("QIPING_REPORT_OUT") {
        write_publication(Path::new(&out), &publication, &[]).unwrap();
    }
    (reports, dir)
}

fn small_publication() -> (PublicResults, Vec<PublicResults>) {
    let periods = periods_until("2019H2", 3);
    let all: Vec<PublicResults> = periods
        .iter()
        .map(|p| synthetic_results(p, &small_groups(), 7))
        .collect();
    let (current, history) = all.split_last().unwrap();
    (current.clone(), history.to_vec())
}

fn charts(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

#[test]
fn a_publication_writes_every_file_of_the_interface() {
    let (current, history) = small_publication();
    let (_tmp, dir) = publish(&current, &history);
    for file in ["index.html", "results.json", "results.csv", "results.xlsx"] {
        assert!(dir.join(file).is_file(), "{file} is missing");
    }
    let stems: Vec<String> = charts(&dir, "svg")
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for stem in [
        "ranking-g1-1",
        "funnel-g1",
        "caterpillar-g1-1",
        "trend-g1-1",
        "trend-g2-1",
    ] {
        assert!(
            stems.iter().any(|s| s == stem),
            "{stem} missing from {stems:?}"
        );
        assert!(dir.join("charts").join(format!("{stem}.png")).is_file());
    }
    let json = std::fs::read_to_string(dir.join("results.json")).unwrap();
    assert_eq!(json, serde_json::to_string_pretty(&current).unwrap());
}

#[test]
fn the_csv_starts_with_a_bom_and_reads_back_as_the_results() {
    let (current, history) = small_publication();
    let (_tmp, dir) = publish(&current, &history);
    let bytes = std::fs::read(dir.join("results.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no BOM");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "peer_group");
    assert_eq!(&headers[2], "code");
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let opt = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let units: Vec<(&str, &PublicUnit)> = current
        .peer_groups
        .iter()
        .flat_map(|g| g.units.iter().map(move |u| (g.name.as_str(), u)))
        .collect();
    assert_eq!(rows.len(), units.len());
    for row in &rows {
        let (group, unit) = units
            .iter()
            .find(|(_, u)| u.code == row[col("code")])
            .unwrap();
        assert_eq!(&row[col("peer_group")], *group);
        assert_eq!(row[col("name")], unit.name);
        assert_eq!(opt(&row[col("score")]), unit.score);
        assert_eq!(opt(&row[col("ci_low")]), unit.ci_low);
        assert_eq!(opt(&row[col("ci_high")]), unit.ci_high);
        assert_eq!(opt(&row[col("satisfied_rate")]), unit.satisfied_rate);
        assert_eq!(opt(&row[col("p_bottom5")]), unit.p_bottom5);
        assert_eq!(opt(&row[col("rank_mean")]), unit.rank_mean);
        assert_eq!(opt(&row[col("rank")]), unit.rank.map(f64::from));
        assert_eq!(row[col("n")].parse::<usize>().unwrap(), unit.n);
        assert_eq!(
            &row[col("eligible")],
            if unit.eligible { "是" } else { "否" }
        );
    }
}

#[test]
fn the_workbook_has_a_sheet_per_peer_group_with_chinese_headers_and_numbers() {
    let (current, history) = small_publication();
    let (_tmp, dir) = publish(&current, &history);
    let mut book: Xlsx<_> = open_workbook(dir.join("results.xlsx")).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["部门".to_owned(), "基层站所".to_owned()]
    );
    let range = book.worksheet_range("部门").unwrap();
    assert_eq!(range.height(), 1 + current.peer_groups[0].units.len());
    assert_eq!(range.get((0, 1)), Some(&Data::String("名次".into())));
    assert_eq!(range.get((0, 3)), Some(&Data::String("单位名称".into())));
    let first = current.peer_groups[0]
        .units
        .iter()
        .find(|u| u.rank == Some(1))
        .unwrap();
    assert_eq!(range.get((1, 1)), Some(&Data::Float(1.0)));
    assert_eq!(range.get((1, 3)), Some(&Data::String(first.name.clone())));
    assert_eq!(range.get((1, 5)), Some(&Data::Float(first.score.unwrap())));
}

#[test]
fn every_svg_is_well_formed_xml_and_every_png_decodes_at_its_size() {
    let (current, history) = small_publication();
    let (_tmp, dir) = publish(&current, &history);
    let svgs = charts(&dir, "svg");
    assert!(svgs.len() >= 8, "{svgs:?}");
    for svg in &svgs {
        let text = std::fs::read_to_string(svg).unwrap();
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{} is not XML: {e}", svg.display()));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        let width: u32 = root.attribute("width").unwrap().parse().unwrap();
        let height: u32 = root.attribute("height").unwrap().parse().unwrap();
        let png = svg.with_extension("png");
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        assert_eq!(
            (frame.width, frame.height),
            (width, height),
            "{}",
            png.display()
        );
        // Something was drawn: a blank page would be a single colour.
        let first = &buf[..3];
        assert!(buf[..frame.buffer_size()].chunks(3).any(|px| px != first));
    }
}

#[test]
fn the_bulletin_is_self_contained_and_escapes_unit_names() {
    let (mut current, history) = small_publication();
    current.peer_groups[0].units[0].name = "<script>局".into();
    let (_tmp, dir) = publish(&current, &history);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(!html.contains("<script"), "unescaped name");
    // askama escapes the tables, plotters the charts' labels.
    assert!(html.contains("&#60;script&#62;局"));
    assert!(html.contains("&lt;script&gt;局"));
    assert!(
        !html.contains("<link") && !html.contains("src=\"http"),
        "external asset"
    );
    assert!(html.contains("@page") && html.contains("@media print"));
    assert!(html.contains("<svg"), "charts are inlined");
    for words in [
        "评议概况",
        "845",
        "70.4%",
        "连续两次",
        "方法说明",
        "样本不足",
        "95% 置信区间",
    ] {
        assert!(html.contains(words), "{words} missing");
    }
    // Heads are for inspectors: the public bulletin has no 负责人 column.
    assert!(!html.contains("负责人"));
}

#[test]
fn formula_like_unit_names_stay_inert_in_the_csv_and_the_workbook() {
    let (mut current, history) = small_publication();
    let hostile = [
        "=HYPERLINK(\"http://x\",\"点击\")",
        "+1+2",
        "-3",
        "@SUM(A1)",
        "\tcmd",
    ];
    for (unit, name) in current.peer_groups[0].units.iter_mut().zip(hostile) {
        unit.name = name.into();
    }
    let (_tmp, dir) = publish(&current, &history);
    let bytes = std::fs::read(dir.join("results.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[3].to_owned()).collect();
    for name in hostile {
        assert!(
            names.contains(&format!("'{name}")),
            "{name} not neutralised"
        );
    }
    for name in &names {
        assert!(
            !name.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{name}"
        );
    }
    let mut book: Xlsx<_> = open_workbook(dir.join("results.xlsx")).unwrap();
    let formulas = book.worksheet_formula("部门").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "a formula cell"
    );
    let range = book.worksheet_range("部门").unwrap();
    let cells: Vec<&Data> = range.rows().skip(1).map(|r| &r[3]).collect();
    for name in hostile {
        assert!(
            cells.contains(&&Data::String(name.into())),
            "{name} is not a string cell"
        );
    }
}

#[test]
fn a_300_unit_campaign_is_split_into_legible_pages() {
    let periods = periods_until("2020H1", 4);
    let all: Vec<PublicResults> = periods
        .iter()
        .map(|p| synthetic_results(p, &city_groups(), 11))
        .collect();
    let (current, history) = all.split_last().unwrap();
    let (_tmp, dir) = publish(current, history);
    let svgs = charts(&dir, "svg");
    let names: Vec<String> = svgs
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let offices = &current.peer_groups[1];
    let ranked = offices.units.iter().filter(|u| u.rank.is_some()).count();
    assert!(ranked > 50, "the test needs a group larger than one page");
    // 160 offices: more than 50 ranked → at least two ranking and caterpillar pages.
    assert!(names.contains(&"ranking-g2-2".to_owned()), "{names:?}");
    assert!(names.contains(&"caterpillar-g2-2".to_owned()));
    assert!(names.iter().filter(|n| n.starts_with("trend-g2-")).count() >= 5);
    for svg in &svgs {
        let text = std::fs::read_to_string(svg).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let height: u32 = doc
            .root_element()
            .attribute("height")
            .unwrap()
            .parse()
            .unwrap();
        // ≤ 50 rows of 20 px, or 6 rows of panels: a page stays readable on screen and A4.
        assert!(height <= 1200, "{} is {height} px tall", svg.display());
        let rows = doc
            .descendants()
            .filter(|n| n.has_tag_name("text") && n.text().is_some_and(|t| t.contains("处室")))
            .count();
        assert!(rows <= 80, "{} has {rows} labels", svg.display());
    }
}

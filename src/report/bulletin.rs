//! `index.html`: the bulletin (通报) people read and print. One self-contained file — inline CSS,
//! the SVG charts inlined — so it can be mailed, archived or opened offline and still show
//! everything. Every name and number passes through askama's HTML escaping; only the SVG, which
//! plotters escapes itself, is inserted as is.

use std::collections::HashSet;

use askama::Template;

use super::Publication;
use super::charts::Chart;
use super::charts::group::GroupCharts;
use super::method::STYLE;
use super::model::{PublicPeerGroup, PublicUnit};
use super::table::{self, kind_zh};

#[derive(Template)]
#[template(path = "bulletin.html")]
struct Bulletin<'a> {
    style: &'static str,
    period: &'a str,
    version: i32,
    published_at: String,
    supersedes: Option<i32>,
    reason: Option<&'a str>,
    participation: Option<ParticipationView>,
    groups: Vec<GroupView<'a>>,
    flags: Vec<FlagView>,
    flag_min_units: usize,
    method_version: &'a str,
    seed: u64,
    /// The thresholds the methodology note states: the settings this version was computed with.
    m: &'a crate::stats::Settings,
    by_shrunken: bool,
    credible_percent: String,
}

struct ParticipationView {
    invited: i64,
    completed: i64,
    rate: String,
    /// Ballots the close could not open and the 营商办 chose to drop (0 when none).
    excluded: i64,
}

struct GroupView<'a> {
    name: &'a str,
    ranked: Vec<RowView<'a>>,
    unranked: Vec<RowView<'a>>,
    flaggable: bool,
    charts: Vec<&'a Chart>,
}

struct RowView<'a> {
    unit: &'a PublicUnit,
    kind: &'a str,
    bottom: bool,
    flagged: bool,
}

impl RowView<'_> {
    fn rank(&self) -> String {
        self.unit.rank.map_or("—".into(), |r| r.to_string())
    }
    fn status(&self) -> &'static str {
        table::status(self.unit)
    }
}

struct FlagView {
    name: String,
    group: String,
    periods: String,
    credible: bool,
}

/// The bulletin's HTML.
pub fn render(
    publication: &Publication<'_>,
    charts: &[GroupCharts],
) -> Result<String, askama::Error> {
    let results = publication.results;
    let bottom_n = publication.bottom_n;
    let flagged: HashSet<&str> = results.flags.iter().map(|f| f.unit_code.as_str()).collect();
    let groups = results
        .peer_groups
        .iter()
        .zip(charts)
        .map(|(group, charts)| group_view(group, charts, bottom_n, &flagged))
        .collect();
    let flags = results
        .flags
        .iter()
        .map(|f| {
            let found = results.peer_groups.iter().find_map(|g| {
                g.units
                    .iter()
                    .find(|u| u.code == f.unit_code)
                    .map(|u| (g, u))
            });
            FlagView {
                name: found.map_or(f.unit_code.clone(), |(_, u)| u.name.clone()),
                group: found.map_or(String::new(), |(g, _)| g.name.clone()),
                periods: f.periods.join("、"),
                credible: f.credible,
            }
        })
        .collect();
    let published_at = results.published_on_text();
    let m = &publication.method.settings;
    Bulletin {
        style: STYLE,
        period: &results.period,
        version: results.version,
        published_at,
        supersedes: results.supersedes,
        reason: results.reason.as_deref(),
        participation: publication.participation.map(|p| ParticipationView {
            invited: p.invited,
            completed: p.completed,
            rate: p
                .response_rate
                .map_or("—".into(), |r| format!("{:.1}%", r * 100.0)),
            excluded: p.unopenable_excluded.unwrap_or(0),
        }),
        groups,
        flags,

        flag_min_units: crate::stats::BottomRule::new(bottom_n).min_ranked(),
        method_version: &results.method_version,
        seed: results.seed,
        m,
        by_shrunken: m.rank_by == crate::stats::RankBy::Shrunken,
        credible_percent: super::method::percent(m.credible_probability),
    }
    .render()
}

fn group_view<'a>(
    group: &'a PublicPeerGroup,
    charts: &'a GroupCharts,
    bottom_n: usize,
    flagged: &HashSet<&str>,
) -> GroupView<'a> {
    let ranked_count = group.units.iter().filter(|u| u.rank.is_some()).count();
    let (mut ranked, mut unranked) = (Vec::new(), Vec::new());
    for unit in table::reading_order(group) {
        let view = RowView {
            unit,
            kind: kind_zh(&unit.kind),
            bottom: super::charts::in_bottom(unit, ranked_count, bottom_n),
            flagged: flagged.contains(unit.code.as_str()),
        };
        if unit.rank.is_some() {
            ranked.push(view);
        } else {
            unranked.push(view);
        }
    }
    GroupView {
        name: &group.name,
        ranked,
        unranked,
        flaggable: crate::stats::BottomRule::new(bottom_n).flaggable(ranked_count),
        charts: charts.all().collect(),
    }
}

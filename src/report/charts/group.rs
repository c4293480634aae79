//! Every chart of one peer group, paginated, with file stems that are ASCII-safe (`g1` is the
//! group's place in `results.json`; the caption carries its Chinese name).

use super::caterpillar::CaterpillarPage;
use super::funnel::{FunnelCentre, FunnelPlot};
use super::ranking::RankingPage;
use super::trend::{TrendPage, TrendSeries};
use super::{Chart, PANELS_PER_PAGE, UNITS_PER_PAGE, pages, ranked, render, score_range};
use crate::report::Publication;
use crate::report::model::{PublicPeerGroup, PublicUnit};

/// At most this many half-years are shown in a trend.
pub const TREND_PERIODS: usize = 6;

/// The charts of one peer group, in the order the bulletin shows them.
#[derive(Debug, Clone, Default)]
pub struct GroupCharts {
    pub ranking: Vec<Chart>,
    pub funnel: Option<Chart>,
    pub caterpillar: Vec<Chart>,
    pub trend: Vec<Chart>,
}

impl GroupCharts {
    /// Every chart, for writing files.
    pub fn all(&self) -> impl Iterator<Item = &Chart> {
        self.ranking
            .iter()
            .chain(&self.funnel)
            .chain(&self.caterpillar)
            .chain(&self.trend)
    }
}

/// Draws the charts of the group at `index` (from 0) of the publication.
pub fn group_charts(
    publication: &Publication<'_>,
    index: usize,
    group: &PublicPeerGroup,
) -> Result<GroupCharts, String> {
    let period = &publication.results.period;
    let slug = format!("g{}", index + 1);
    let ranked = ranked(group);
    let page_count = ranked.len().div_ceil(UNITS_PER_PAGE);
    let page_note = |p: usize, of: usize| {
        if of > 1 {
            format!("(第 {} / {of} 页)", p + 1)
        } else {
            String::new()
        }
    };
    let range = score_range(ranked.iter().copied());
    let mut charts = GroupCharts::default();
    for (p, units) in pages(&ranked, UNITS_PER_PAGE).into_iter().enumerate() {
        let title = format!(
            "{period} {} 满意度得分与排名{}",
            group.name,
            page_note(p, page_count)
        );
        let figure = RankingPage {
            title: title.clone(),
            units,
            ranked_count: ranked.len(),
            bottom_n: publication.bottom_n,
            range,
            mu: group.mu,
        };
        charts
            .ranking
            .push(render(format!("ranking-{slug}-{}", p + 1), title, &figure)?);
        let title = format!(
            "{period} {} 名次区间{}",
            group.name,
            page_note(p, page_count)
        );
        let figure = CaterpillarPage {
            title: title.clone(),
            units,
            ranked_count: ranked.len(),
            bottom_n: publication.bottom_n,
        };
        charts.caterpillar.push(render(
            format!("caterpillar-{slug}-{}", p + 1),
            title,
            &figure,
        )?);
    }
    let published: Vec<&PublicUnit> = group.units.iter().filter(|u| u.score.is_some()).collect();
    if let Some(centre) = FunnelCentre::of(published.iter().copied()) {
        let title = format!("{period} {} 漏斗图:得分与样本量", group.name);
        let figure = FunnelPlot {
            title: title.clone(),
            units: published,
            centre,
        };
        charts.funnel = Some(render(format!("funnel-{slug}"), title, &figure)?);
    }
    let (periods, series) = trend_series(publication, group);
    let trend_range = score_range(
        publication
            .history
            .iter()
            .chain(std::iter::once(publication.results))
            .flat_map(|r| r.peer_groups.iter().filter(|g| g.name == group.name))
            .flat_map(|g| g.units.iter()),
    );
    let trend_pages = pages(&series, PANELS_PER_PAGE);
    let of = trend_pages.len();
    for (p, series) in trend_pages.into_iter().enumerate() {
        let title = format!(
            "{} 历次得分走势(95% 置信区间){}",
            group.name,
            page_note(p, of)
        );
        let figure = TrendPage {
            title: title.clone(),
            periods: &periods,
            series,
            range: trend_range,
        };
        charts
            .trend
            .push(render(format!("trend-{slug}-{}", p + 1), title, &figure)?);
    }
    Ok(charts)
}

/// The half-years shown (oldest first, the current one last) and a series per unit of the group
/// that was published at least once, in the current ranking's order. Units are matched by code
/// within the group of the same name.
fn trend_series(
    publication: &Publication<'_>,
    group: &PublicPeerGroup,
) -> (Vec<String>, Vec<TrendSeries>) {
    let current = publication.results;
    let mut earlier: Vec<&super::super::model::PublicResults> = publication
        .history
        .iter()
        .filter(|r| r.period < current.period)
        .collect();
    earlier.sort_by(|a, b| a.period.cmp(&b.period));
    earlier.dedup_by(|a, b| a.period == b.period);
    let skip = (earlier.len() + 1).saturating_sub(TREND_PERIODS);
    let shown: Vec<_> = earlier
        .into_iter()
        .skip(skip)
        .chain(std::iter::once(current))
        .collect();
    let periods = shown.iter().map(|r| r.period.clone()).collect();
    let series = crate::report::table::reading_order(group)
        .into_iter()
        .map(|unit| TrendSeries {
            name: unit.name.clone(),
            points: shown
                .iter()
                .map(|r| {
                    r.peer_groups
                        .iter()
                        .filter(|g| g.name == group.name)
                        .flat_map(|g| g.units.iter())
                        .find(|u| u.code == unit.code)
                        .and_then(|u| Some((u.score?, u.ci_low?, u.ci_high?)))
                })
                .collect(),
        })
        .filter(|s| s.points.iter().any(Option::is_some))
        .collect();
    (periods, series)
}

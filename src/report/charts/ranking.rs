//! Chart 1: a peer group's ranking. One row per ranked unit (best first), its score as a dot with
//! the 95% interval as a whisker and its shrunken score as a ring, so a reader sees at once how far
//! apart neighbours really are. The five lowest rows are shaded red.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{BLUE, Drawn, Figure, GREY, PALE_RED, RED, failed, short_name, text};
use crate::report::model::PublicUnit;

/// Pixels reserved left of the plot for "名次 单位名称".
const LABEL_WIDTH: u32 = 300;
const ROW_HEIGHT: u32 = 20;

/// One page of a group's ranking.
pub struct RankingPage<'a> {
    pub title: String,
    /// The page's units, best first.
    pub units: &'a [&'a PublicUnit],
    /// How many units the group ranks (to find the five lowest).
    pub ranked_count: usize,
    pub bottom_n: usize,
    /// The score axis shared by every page of the group.
    pub range: (f64, f64),
    /// The group mean μ̂, drawn as a reference line.
    pub mu: Option<f64>,
}

impl Figure for RankingPage<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 140 + ROW_HEIGHT * self.units.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let rows = self.units.len().max(1);
        let (lo, hi) = self.range;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, text(22.0, BLACK))
            .margin_top(12)
            .margin_bottom(8)
            .margin_left(LABEL_WIDTH)
            .margin_right(30)
            .x_label_area_size(56)
            .build_cartesian_2d(lo..hi, -0.5..(rows as f64 - 0.5))
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .y_labels(0)
            .x_labels(12)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("得分(百分制);● 得分  ─ 95% 置信区间  ○ 收缩后得分(排名依据);红底为后五位")
            .label_style(text(14.0, BLACK))
            .axis_desc_style(text(14.0, BLACK))
            .draw()
            .map_err(failed)?;
        let y_of = |i: usize| (rows - 1 - i) as f64;
        let bottom = |u: &PublicUnit| super::in_bottom(u, self.ranked_count, self.bottom_n);
        chart
            .draw_series(
                self.units
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| bottom(u))
                    .map(|(i, _)| {
                        let y = y_of(i);
                        Rectangle::new([(lo, y - 0.5), (hi, y + 0.5)], PALE_RED.filled())
                    }),
            )
            .map_err(failed)?;
        if let Some(mu) = self.mu.filter(|m| (lo..=hi).contains(m)) {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(mu, -0.5), (mu, rows as f64 - 0.5)],
                    GREY.stroke_width(1),
                )))
                .map_err(failed)?;
        }
        for (i, unit) in self.units.iter().enumerate() {
            let (Some(score), Some(low), Some(high)) = (unit.score, unit.ci_low, unit.ci_high)
            else {
                continue;
            };
            let y = y_of(i);
            let color = if bottom(unit) { RED } else { BLUE };
            chart
                .draw_series([
                    PathElement::new(vec![(low, y), (high, y)], color.stroke_width(2)),
                    PathElement::new(
                        vec![(low, y - 0.25), (low, y + 0.25)],
                        color.stroke_width(1),
                    ),
                    PathElement::new(
                        vec![(high, y - 0.25), (high, y + 0.25)],
                        color.stroke_width(1),
                    ),
                ])
                .map_err(failed)?;
            chart
                .draw_series(std::iter::once(Circle::new((score, y), 4, color.filled())))
                .map_err(failed)?;
            if let Some(shrunken) = unit.shrunken {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (shrunken, y),
                        6,
                        BLACK.stroke_width(1),
                    )))
                    .map_err(failed)?;
            }
            let (px, py) = chart.backend_coord(&(lo, y));
            let label = format!(
                "{}  {}",
                unit.rank.unwrap_or_default(),
                short_name(&unit.name, 16)
            );
            let style = text(14.0, if bottom(unit) { RED } else { BLACK })
                .pos(Pos::new(HPos::Right, VPos::Center));
            root.draw(&Text::new(label, (px - 8, py), style))
                .map_err(failed)?;
        }
        Ok(())
    }
}

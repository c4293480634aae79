//! Chart 4: each unit's trend over campaigns, as small multiples (one panel per unit, the same
//! score axis in every panel of a peer group), so a reader compares a unit with itself and with
//! its neighbours without untangling a hundred crossing lines. Each published half-year shows
//! the score with its 95% interval; a half-year where the unit was not published stays empty.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{BLUE, Drawn, Figure, GREY, failed, short_name, text};

/// Panels per row of a trend page.
const COLUMNS: usize = 5;
const PANEL_WIDTH: u32 = 240;
const PANEL_HEIGHT: u32 = 170;
const TITLE_HEIGHT: u32 = 50;

/// One unit's score, interval low and high in each period (`None`: not published then).
#[derive(Debug, Clone)]
pub struct TrendSeries {
    pub name: String,
    pub points: Vec<Option<(f64, f64, f64)>>,
}

/// One page of a group's trend panels.
pub struct TrendPage<'a> {
    pub title: String,
    /// The campaigns shown, oldest first.
    pub periods: &'a [String],
    pub series: &'a [TrendSeries],
    /// The score axis shared by every panel of the group.
    pub range: (f64, f64),
}

impl TrendPage<'_> {
    fn rows(&self) -> usize {
        self.series.len().div_ceil(COLUMNS).max(1)
    }
}

impl Figure for TrendPage<'_> {
    fn size(&self) -> (u32, u32) {
        (
            PANEL_WIDTH * COLUMNS as u32,
            TITLE_HEIGHT + PANEL_HEIGHT * self.rows() as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let body = root
            .margin(8, 0, 0, 0)
            .titled(&self.title, text(22.0, BLACK))
            .map_err(failed)?;
        let panels = body.split_evenly((self.rows(), COLUMNS));
        let k = self.periods.len().max(1);
        let (lo, hi) = self.range;
        // Six half-years of "2019H1" do not fit under a panel; "19H1" does.
        let label = |p: &str| {
            if k > 4 {
                p.get(2..).unwrap_or(p).to_owned()
            } else {
                p.to_owned()
            }
        };
        for (panel, series) in panels.iter().zip(self.series) {
            let mut chart = ChartBuilder::on(panel)
                .caption(short_name(&series.name, 14), text(14.0, BLACK))
                .margin(6)
                .margin_right(10)
                .x_label_area_size(20)
                .y_label_area_size(30)
                .build_cartesian_2d(-0.5..(k as f64 - 0.5), lo..hi)
                .map_err(failed)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(0)
                .y_labels(4)
                .y_label_formatter(&|y| format!("{y:.0}"))
                .label_style(text(11.0, GREY))
                .light_line_style(WHITE)
                .draw()
                .map_err(failed)?;
            let known: Vec<(f64, f64)> = series
                .points
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.map(|(s, _, _)| (i as f64, s)))
                .collect();
            chart
                .draw_series(LineSeries::new(
                    known.clone(),
                    BLUE.mix(0.5).stroke_width(1),
                ))
                .map_err(failed)?;
            chart
                .draw_series(series.points.iter().enumerate().filter_map(|(i, p)| {
                    p.map(|(_, l, h)| {
                        PathElement::new(vec![(i as f64, l), (i as f64, h)], BLUE.stroke_width(2))
                    })
                }))
                .map_err(failed)?;
            chart
                .draw_series(known.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))
                .map_err(failed)?;
            for (i, period) in self.periods.iter().enumerate() {
                let (px, py) = chart.backend_coord(&(i as f64, lo));
                panel
                    .draw(&Text::new(
                        label(period),
                        (
                            px - panel.get_base_pixel().0,
                            py - panel.get_base_pixel().1 + 4,
                        ),
                        text(11.0, GREY).pos(Pos::new(HPos::Center, VPos::Top)),
                    ))
                    .map_err(failed)?;
            }
        }
        Ok(())
    }
}

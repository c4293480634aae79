//! Chart 3: rank intervals ("caterpillar"). Each ranked unit's 95% rank interval from the
//! simulation as a bar, its mean simulated rank as a dot, and P(后五位) at the right. Long bars
//! are the honest message: many neighbouring places cannot be told apart.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{BLUE, Drawn, Figure, PALE_RED, RED, failed, short_name, text};
use crate::report::model::PublicUnit;

const LABEL_WIDTH: u32 = 300;
const PROBABILITY_WIDTH: u32 = 110;
const ROW_HEIGHT: u32 = 20;

/// One page of a group's rank intervals.
pub struct CaterpillarPage<'a> {
    pub title: String,
    /// The page's units, by published rank.
    pub units: &'a [&'a PublicUnit],
    pub ranked_count: usize,
    pub bottom_n: usize,
}

impl Figure for CaterpillarPage<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 140 + ROW_HEIGHT * self.units.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let rows = self.units.len().max(1);
        let j = self.ranked_count.max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, text(22.0, BLACK))
            .margin_top(12)
            .margin_bottom(8)
            .margin_left(LABEL_WIDTH)
            .margin_right(PROBABILITY_WIDTH)
            .x_label_area_size(56)
            .build_cartesian_2d(0.5..(j + 0.5), -0.5..(rows as f64 - 0.5))
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .y_labels(0)
            .x_labels(15)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("名次(1 为最好);● 模拟平均名次  ─ 95% 名次区间;红底为后五位名次")
            .label_style(text(14.0, BLACK))
            .axis_desc_style(text(14.0, BLACK))
            .draw()
            .map_err(failed)?;
        let zone = (j - self.bottom_n as f64 + 0.5).max(0.5);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(zone, -0.5), (j + 0.5, rows as f64 - 0.5)],
                PALE_RED.filled(),
            )))
            .map_err(failed)?;
        for (i, unit) in self.units.iter().enumerate() {
            let (Some(low), Some(high), Some(mean)) =
                (unit.rank_low, unit.rank_high, unit.rank_mean)
            else {
                continue;
            };
            let y = (rows - 1 - i) as f64;
            let bottom = super::in_bottom(unit, self.ranked_count, self.bottom_n);
            let color = if bottom { RED } else { BLUE };
            chart
                .draw_series([PathElement::new(
                    vec![(f64::from(low) - 0.3, y), (f64::from(high) + 0.3, y)],
                    color.stroke_width(5),
                )])
                .map_err(failed)?;
            chart
                .draw_series(std::iter::once(Circle::new((mean, y), 4, BLACK.filled())))
                .map_err(failed)?;
            let (left, py) = chart.backend_coord(&(0.5, y));
            let (right, _) = chart.backend_coord(&(j + 0.5, y));
            let label = format!(
                "{}  {}",
                unit.rank.unwrap_or_default(),
                short_name(&unit.name, 16)
            );
            let color_text = if bottom { RED } else { BLACK };
            root.draw(&Text::new(
                label,
                (left - 8, py),
                text(14.0, color_text).pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(failed)?;
            let p = unit
                .p_bottom5
                .map_or("—".to_owned(), |p| format!("P={:.0}%", p * 100.0));
            root.draw(&Text::new(
                p,
                (right + 10, py),
                text(14.0, color_text).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(failed)?;
        }
        Ok(())
    }
}

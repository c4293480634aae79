//! Chart 2: a funnel plot (Spiegelhalter 2005, Stat Med 24:1185). Each published unit's score
//! against its number of ratings n, with control limits `θ₀ ± z·σ/√n` around the group's mean
//! θ₀ at 95% (z = 1.96) and 99.8% (z = 3.09). A unit outside the 99.8% funnel differs from the
//! group by more than chance at its sample size; inside, its distance from the mean may be noise.
//!
//! σ is the pooled within-unit SD, recovered from the published intervals so the chart can be
//! redrawn from `results.json` alone: `SE_j = (ci_high − ci_low) / (2·t(0.975, n_j−1))` and
//! `s_j² = SE_j² · n_eff_j` (exact without weights, where `SE = s/√n`), pooled with weights n_j − 1.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{BLUE, Drawn, Figure, GREY, ORANGE, RED, failed, short_name, text};
use crate::report::model::PublicUnit;

/// Normal quantiles of the two funnels: two-sided 95% and 99.8%.
pub const Z95: f64 = 1.959_963_985;
pub const Z998: f64 = 3.090_232_306;
/// At most this many units outside the 99.8% limits are named on the chart.
const MAX_NAMED: usize = 12;

/// The funnel's centre θ₀ (n-weighted mean score) and pooled SD σ of the group's published units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunnelCentre {
    pub mean: f64,
    pub sd: f64,
}

impl FunnelCentre {
    /// `None` when fewer than two units have a score and an interval.
    pub fn of<'a>(units: impl Iterator<Item = &'a PublicUnit>) -> Option<FunnelCentre> {
        let (mut weighted, mut total_n, mut ss, mut df, mut count) = (0.0, 0.0, 0.0, 0.0, 0);
        for u in units {
            let (Some(score), Some(low), Some(high)) = (u.score, u.ci_low, u.ci_high) else {
                continue;
            };
            if u.n < 2 {
                continue;
            }
            let n = u.n as f64;
            let t = StudentsT::new(0.0, 1.0, n - 1.0).ok()?.inverse_cdf(0.975);
            let se = (high - low) / (2.0 * t);
            ss += (n - 1.0) * se * se * u.n_eff;
            df += n - 1.0;
            weighted += n * score;
            total_n += n;
            count += 1;
        }
        (count >= 2 && df > 0.0).then(|| FunnelCentre {
            mean: weighted / total_n,
            sd: (ss / df).sqrt(),
        })
    }

    /// The lower and upper limit at `n` ratings for the normal quantile `z`.
    pub fn limits(&self, n: f64, z: f64) -> (f64, f64) {
        let half = z * self.sd / n.max(1.0).sqrt();
        (self.mean - half, self.mean + half)
    }
}

/// A group's funnel plot.
pub struct FunnelPlot<'a> {
    pub title: String,
    pub units: Vec<&'a PublicUnit>,
    pub centre: FunnelCentre,
}

impl Figure for FunnelPlot<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let points: Vec<(f64, f64, &PublicUnit)> = self
            .units
            .iter()
            .filter_map(|u| u.score.map(|s| (u.n as f64, s, *u)))
            .collect();
        let n_max = points.iter().map(|p| p.0).fold(10.0, f64::max) * 1.08;
        let n_min = points.iter().map(|p| p.0).fold(n_max, f64::min).max(2.0) * 0.9;
        let (low_edge, high_edge) = self.centre.limits(n_min, Z998);
        let lo = points.iter().map(|p| p.1).fold(low_edge, f64::min);
        let hi = points.iter().map(|p| p.1).fold(high_edge, f64::max);
        let (lo, hi) = (
            ((lo - 2.0) / 5.0).floor() * 5.0,
            ((hi + 2.0) / 5.0).ceil() * 5.0,
        );
        let (lo, hi) = (lo.max(0.0), hi.min(100.0));
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, text(22.0, BLACK))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..n_max, lo..hi)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc("有效评价数 n")
            .y_desc("得分")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(WHITE)
            .label_style(text(14.0, BLACK))
            .axis_desc_style(text(15.0, BLACK))
            .draw()
            .map_err(failed)?;
        let steps = 160;
        let curve = |z: f64, upper: bool| -> Vec<(f64, f64)> {
            (0..=steps)
                .map(|i| {
                    let n = n_min + (n_max - n_min) * i as f64 / steps as f64;
                    let (l, h) = self.centre.limits(n, z);
                    (n, if upper { h } else { l }.clamp(lo, hi))
                })
                .collect()
        };
        for (z, color, label) in [(Z95, ORANGE, "95% 控制限"), (Z998, RED, "99.8% 控制限")] {
            chart
                .draw_series(LineSeries::new(curve(z, true), color.stroke_width(2)))
                .map_err(failed)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
                });
            chart
                .draw_series(LineSeries::new(curve(z, false), color.stroke_width(2)))
                .map_err(failed)?;
        }
        let mean = self.centre.mean;
        chart
            .draw_series(LineSeries::new(
                vec![(n_min, mean), (n_max, mean)],
                GREY.stroke_width(1),
            ))
            .map_err(failed)?
            .label(format!("本组平均 {mean:.1}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], GREY.stroke_width(1)));
        let outside = |n: f64, s: f64| {
            let (l, h) = self.centre.limits(n, Z998);
            s < l || s > h
        };
        chart
            .draw_series(points.iter().map(|&(n, s, _)| {
                let color = if outside(n, s) { RED } else { BLUE };
                Circle::new((n, s), 4, color.filled())
            }))
            .map_err(failed)?;
        let mut named: Vec<&(f64, f64, &PublicUnit)> =
            points.iter().filter(|p| outside(p.0, p.1)).collect();
        named.sort_by(|a, b| a.1.total_cmp(&b.1));
        // Names are placed lowest first; one that would overprint a placed name is left out.
        let mut placed: Vec<(i32, i32)> = Vec::new();
        for &&(n, s, unit) in &named {
            let (px, py) = chart.backend_coord(&(n, s));
            if placed.len() >= MAX_NAMED
                || placed
                    .iter()
                    .any(|&(x, y)| (x - px).abs() < 130 && (y - py).abs() < 16)
            {
                continue;
            }
            placed.push((px, py));
            root.draw(&Text::new(
                short_name(&unit.name, 10),
                (px + 7, py),
                text(13.0, RED).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(failed)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(text(14.0, BLACK))
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .draw()
            .map_err(failed)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(n: usize, score: f64, sd: f64) -> PublicUnit {
        let t = StudentsT::new(0.0, 1.0, n as f64 - 1.0)
            .unwrap()
            .inverse_cdf(0.975);
        let half = t * sd / (n as f64).sqrt();
        PublicUnit {
            code: "U".into(),
            name: "单位".into(),
            kind: "office".into(),
            n,
            n_eff: n as f64,
            response_rate: None,
            score: Some(score),
            ci_low: Some(score - half),
            ci_high: Some(score + half),
            satisfied_rate: None,
            satisfied_low: None,
            satisfied_high: None,
            shrunken: None,
            rank: None,
            rank_mean: None,
            rank_low: None,
            rank_high: None,
            p_bottom5: None,
            eligible: true,
            suppressed: false,
        }
    }

    #[test]
    fn the_pooled_sd_is_recovered_from_the_published_intervals() {
        let units = [unit(40, 80.0, 10.0), unit(120, 70.0, 10.0)];
        let centre = FunnelCentre::of(units.iter()).unwrap();
        assert!((centre.sd - 10.0).abs() < 1e-9, "{centre:?}");
        assert!((centre.mean - 72.5).abs() < 1e-9);
        let (l, h) = centre.limits(100.0, Z95);
        assert!((h - l - 2.0 * Z95).abs() < 1e-9);
    }

    #[test]
    fn one_unit_has_no_funnel() {
        assert_eq!(FunnelCentre::of([unit(40, 80.0, 10.0)].iter()), None);
    }
}

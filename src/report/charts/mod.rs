//! The bulletin's charts, each drawn once per backend: SVG (inlined in `index.html`, sharp at any
//! size) and PNG (for slides and messaging apps that will not show SVG). A figure is written
//! against plotters' `DrawingBackend`, so both files come from the same drawing code.
//!
//! Legibility with 300 units: rankings and rank intervals are paginated at [`UNITS_PER_PAGE`] rows,
//! trends at [`PANELS_PER_PAGE`] small multiples; every page of a group shares one axis scale so
//! pages compare.

pub mod caterpillar;
pub mod funnel;
pub mod group;
pub mod ranking;
pub mod trend;

use plotters::backend::{BitMapBackend, SVGBackend};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::font;
use super::model::{PublicPeerGroup, PublicUnit};

/// Rows per ranking or rank-interval page: about 20 px a row keeps names readable on A4.
pub const UNITS_PER_PAGE: usize = 50;
/// Small multiples per trend page (5 columns × 6 rows).
pub const PANELS_PER_PAGE: usize = 30;

/// Blue for ordinary units, red for the five lowest, grey for reference lines.
pub const BLUE: RGBColor = RGBColor(31, 95, 166);
pub const RED: RGBColor = RGBColor(192, 32, 38);
pub const GREY: RGBColor = RGBColor(120, 120, 120);
pub const ORANGE: RGBColor = RGBColor(230, 140, 20);
pub const PALE_RED: RGBColor = RGBColor(252, 228, 228);

/// What a drawing returns: plotters' errors are generic over the backend, so they are flattened
/// to their message.
pub type Drawn = Result<(), String>;

/// Turns any backend error into its message.
pub fn failed<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A chart that can be drawn on any backend.
pub trait Figure {
    /// Width and height in pixels (the SVG's viewBox and the PNG's size).
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn;
}

/// One chart, ready to be written: its file stem under `charts/`, its caption and its SVG text.
#[derive(Debug, Clone)]
pub struct Chart {
    pub stem: String,
    pub caption: String,
    pub size: (u32, u32),
    pub svg: String,
    /// The PNG file's bytes.
    pub png: Vec<u8>,
}

/// Draws `figure` as SVG and PNG.
pub fn render(stem: String, caption: String, figure: &impl Figure) -> Result<Chart, String> {
    if !font::ensure_registered() {
        return Err("内嵌字体无法读取".into());
    }
    let size = figure.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        figure.draw(&root)?;
        root.present().map_err(failed)?;
    }
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        figure.draw(&root)?;
        root.present().map_err(failed)?;
    }
    let png = encode_png(&rgb, size)?;
    Ok(Chart {
        stem,
        caption,
        size,
        svg,
        png,
    })
}

/// PNG from an RGB buffer. Fast compression: the charts are mostly flat colour, so the files stay
/// small and a 300-unit report is not held up by the encoder.
fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(rgb).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

/// A text style in the embedded font.
pub fn text(size: f64, color: RGBColor) -> TextStyle<'static> {
    (font::FAMILY, size).into_font().color(&color)
}

/// A unit name cut to `max` characters (with an ellipsis), so long official names do not push
/// the plot off the page.
pub fn short_name(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_owned()
    } else {
        let mut s: String = name.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// The group's ranked units, best first.
pub fn ranked(group: &PublicPeerGroup) -> Vec<&PublicUnit> {
    let mut units: Vec<&PublicUnit> = group.units.iter().filter(|u| u.rank.is_some()).collect();
    units.sort_by_key(|u| u.rank);
    units
}

/// Whether a unit is among the `bottom_n` lowest of `ranked_count` ([`crate::stats::BottomRule`]).
pub fn in_bottom(unit: &PublicUnit, ranked_count: usize, bottom_n: usize) -> bool {
    crate::stats::BottomRule::new(bottom_n).in_bottom(unit.rank, ranked_count)
}

/// A score axis around the intervals of `units`, widened to whole fives and kept within 0–100.
pub fn score_range<'a>(units: impl Iterator<Item = &'a PublicUnit>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for u in units {
        for v in [u.ci_low, u.score, u.ci_high].into_iter().flatten() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 100.0);
    }
    let lo = ((lo / 5.0).floor() * 5.0).max(0.0);
    let hi = ((hi / 5.0).ceil() * 5.0).min(100.0);
    if hi - lo < 10.0 {
        ((hi - 10.0).max(0.0), (lo + 10.0).min(100.0))
    } else {
        (lo, hi)
    }
}

/// `items` in pages of at most `per_page`, balanced (52 rows become 26 + 26, not 50 + 2), so no
/// page is a lonely stub.
pub fn pages<T>(items: &[T], per_page: usize) -> Vec<&[T]> {
    if items.is_empty() {
        return Vec::new();
    }
    let count = items.len().div_ceil(per_page.max(1));
    items.chunks(items.len().div_ceil(count)).collect()
}

#[cfg(test)]
mod tests {
    use super::pages;

    #[test]
    fn pages_are_balanced_and_never_exceed_the_limit() {
        let items: Vec<u32> = (0..52).collect();
        let split: Vec<usize> = pages(&items, 50).iter().map(|p| p.len()).collect();
        assert_eq!(split, [26, 26]);
        let items: Vec<u32> = (0..160).collect();
        assert!(pages(&items, 50).iter().all(|p| p.len() <= 50));
        assert_eq!(pages(&items, 50).len(), 4);
        assert!(pages::<u32>(&[], 50).is_empty());
    }
}

//! The CJK font the charts are drawn with. It is compiled into the binary so that a fresh machine
//! (no fontconfig, no system fonts) renders Chinese labels in the PNG charts; the SVG charts name
//! the family `sans-serif` and leave the glyphs to the reader's browser.
//!
//! WenQuanYi Micro Hei (文泉驿微米黑), Debian's `fonts-wqy-microhei`, Apache-2.0 (see README).

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

/// The font file: a TrueType collection whose first face is the proportional Micro Hei.
static WQY_MICROHEI: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei.ttc");

/// The family name charts ask for; it is also what SVG readers see.
pub const FAMILY: &str = "sans-serif";

static REGISTERED: OnceLock<bool> = OnceLock::new();

/// Registers the embedded font with plotters once per process; `false` when it cannot be read.
pub fn ensure_registered() -> bool {
    *REGISTERED.get_or_init(|| {
        [FontStyle::Normal, FontStyle::Bold]
            .into_iter()
            .all(|style| register_font(FAMILY, style, WQY_MICROHEI).is_ok())
    })
}

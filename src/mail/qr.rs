//! The survey link as a QR code PNG, for the HTML body. PNG attached inline (`cid:`) because that is
//! what mail clients show: Gmail, Outlook and QQ Mail strip inline SVG and `data:` images, while
//! every common client renders a `multipart/related` image referenced by its Content-ID.

use qrcode::{Color, QrCode};

/// Pixels per QR module: 45 modules + quiet zone ≈ 300 px, readable from a phone at arm's length.
const SCALE: usize = 6;
/// The quiet zone the QR specification asks for, in modules.
const QUIET: usize = 4;

/// Why a QR code could not be made (a link too long for a QR code, or a PNG encoder failure).
#[derive(Debug, thiserror::Error)]
#[error("无法生成二维码: {0}")]
pub struct QrError(String);

/// The PNG of a QR code that encodes `text`.
pub fn png(text: &str) -> Result<Vec<u8>, QrError> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| QrError(e.to_string()))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    // One bit per pixel, 1 = white, rows padded to whole bytes: an eighth of the bytes an 8-bit
    // image would deflate, for the same picture.
    let row_bytes = side.div_ceil(8);
    let mut pixels = vec![0xffu8; side * row_bytes];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
        for y in my * SCALE..(my + 1) * SCALE {
            for x in mx * SCALE..(mx + 1) * SCALE {
                pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let mut out = Vec::new();
    let side32 = u32::try_from(side).map_err(|e| QrError(e.to_string()))?;
    let mut encoder = png::Encoder::new(&mut out, side32, side32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(|e| QrError(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| QrError(e.to_string()))?;
    writer.finish().map_err(|e| QrError(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_becomes_a_png() {
        let png = super::png(
            "https://qiping.example.gov.cn/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .expect("png");
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn the_png_shows_the_code_dark_on_light() {
        let png = super::png("https://qiping.example.gov.cn/s/abc").expect("png");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().expect("header");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!((info.width, info.height), (info.width, info.width));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        let row = info.line_size;
        let pixel = |x: usize, y: usize| buf[y * row + x / 8] & (0x80 >> (x % 8)) != 0;
        // The quiet zone is white; the top-left finder pattern starts dark right after it.
        let q = super::QUIET * super::SCALE;
        assert!(pixel(0, 0) && pixel(q - 1, q - 1));
        assert!(!pixel(q, q) && !pixel(q + super::SCALE * 6, q));
        // Inside the finder: a white ring, then the dark centre.
        assert!(pixel(q + super::SCALE, q + super::SCALE));
        assert!(!pixel(q + super::SCALE * 3, q + super::SCALE * 3));
    }
}

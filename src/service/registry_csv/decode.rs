//! Turning a file's bytes into text. Registry files come from Excel: UTF-8 (often with a BOM) or, from
//! Excel on Chinese Windows, GBK, which GB18030 contains. Valid UTF-8 is read as UTF-8; anything else
//! must be valid GB18030 or the file is refused with the offset of the first bad byte.

use std::fmt;

use encoding_rs::{DecoderResult, GB18030};

/// The encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEncoding {
    Utf8,
    Utf8WithBom,
    /// GB18030, which includes GBK and GB2312.
    Gb18030,
}

impl SourceEncoding {
    pub fn name(self) -> &'static str {
        match self {
            SourceEncoding::Utf8 => "UTF-8",
            SourceEncoding::Utf8WithBom => "UTF-8 (BOM)",
            SourceEncoding::Gb18030 => "GB18030",
        }
    }
}

impl fmt::Display for SourceEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a file cannot be read as text. Offsets are 0-based bytes; lines are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "第 {line} 行含有空字符(字节位置 {offset}),不是文本 CSV 文件 (NUL byte: not a text CSV file)"
    )]
    Nul { line: usize, offset: usize },
    #[error(
        "文件是 UTF-16 编码,请在 Excel 中另存为「CSV UTF-8(逗号分隔)」 (UTF-16 is not supported; save as CSV UTF-8)"
    )]
    Utf16,
    /// `expected` is `UTF-8` when a BOM declared it, else `GB18030` (tried after UTF-8 failed).
    #[error(
        "第 {line} 行有无法识别的字节(字节位置 {offset}),不是有效的 {expected} 编码;请在 Excel 中另存为「CSV UTF-8(逗号分隔)」 (invalid {expected} byte sequence)"
    )]
    Malformed {
        line: usize,
        offset: usize,
        expected: &'static str,
    },
}

impl DecodeError {
    pub fn line(&self) -> usize {
        match self {
            DecodeError::Nul { line, .. } | DecodeError::Malformed { line, .. } => *line,
            DecodeError::Utf16 => 1,
        }
    }

    /// The message without its line, for an [`ImportError`](super::ImportError) that carries the line.
    pub fn reason(&self) -> String {
        match self {
            DecodeError::Nul { offset, .. } => {
                format!(
                    "含有空字符(字节位置 {offset}),不是文本 CSV 文件 (NUL byte: not a text CSV file)"
                )
            }
            DecodeError::Utf16 => self.to_string(),
            DecodeError::Malformed {
                offset, expected, ..
            } => format!(
                "有无法识别的字节(字节位置 {offset}),不是有效的 {expected} 编码;请在 Excel 中另存为「CSV UTF-8(逗号分隔)」 (invalid {expected} byte sequence)"
            ),
        }
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes a registry file; the BOM, if any, is not part of the text.
pub fn decode(bytes: &[u8]) -> Result<(String, SourceEncoding), DecodeError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(DecodeError::Utf16);
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DecodeError::Nul {
            line: line_of(bytes, offset),
            offset,
        });
    }
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        // The BOM declares UTF-8: a bad sequence after it is an error, not a hint to try GB18030.
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((text.to_string(), SourceEncoding::Utf8WithBom)),
            Err(e) => {
                let offset = UTF8_BOM.len() + e.valid_up_to();
                Err(DecodeError::Malformed {
                    line: line_of(bytes, offset),
                    offset,
                    expected: "UTF-8",
                })
            }
        };
    }
    let valid_up_to = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok((text.to_string(), SourceEncoding::Utf8)),
        Err(e) => e.valid_up_to(),
    };
    // Chinese text that is valid UTF-8 up to a bad byte is a UTF-8 file with a cell pasted in
    // from GBK: read as GB18030 its UTF-8 part would silently turn into other characters. GBK
    // text rarely passes for two UTF-8 CJK characters before its first invalid byte.
    if utf8_cjk_count(&bytes[..valid_up_to]) >= 2 {
        return Err(DecodeError::Malformed {
            line: line_of(bytes, valid_up_to),
            offset: valid_up_to,
            expected: "UTF-8",
        });
    }
    decode_gb18030(bytes).map(|text| (text, SourceEncoding::Gb18030))
}

/// CJK unified ideographs in valid UTF-8 bytes.
fn utf8_cjk_count(valid: &[u8]) -> usize {
    std::str::from_utf8(valid)
        .map(|text| {
            text.chars()
                .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                .count()
        })
        .unwrap_or(0)
}

fn decode_gb18030(bytes: &[u8]) -> Result<String, DecodeError> {
    let mut decoder = GB18030.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len() * 3);
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        DecoderResult::InputEmpty => Ok(text),
        DecoderResult::Malformed(bad, after) => {
            let offset = read.saturating_sub(usize::from(after) + usize::from(bad));
            Err(DecodeError::Malformed {
                line: line_of(bytes, offset),
                offset,
                expected: "GB18030",
            })
        }
        // Cannot happen with the capacity reserved above; reported rather than panicking.
        DecoderResult::OutputFull => Err(DecodeError::Malformed {
            line: line_of(bytes, read),
            offset: read,
            expected: "GB18030",
        }),
    }
}

/// 1-based line of a byte offset.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_utf8_is_read_as_utf8() {
        let (text, encoding) = decode("单位编码,单位名称\n".as_bytes()).unwrap();
        assert_eq!(text, "单位编码,单位名称\n");
        assert_eq!(encoding, SourceEncoding::Utf8);
    }

    #[test]
    fn a_utf8_bom_is_removed() {
        let (text, encoding) = decode("\u{feff}code,name\n".as_bytes()).unwrap();
        assert_eq!(text, "code,name\n");
        assert_eq!(encoding, SourceEncoding::Utf8WithBom);
    }

    #[test]
    fn gbk_bytes_are_read_as_gb18030() {
        let (bytes, _, _) = GB18030.encode("统一社会信用代码,企业名称\n徐州市,中型\n");
        let (text, encoding) = decode(&bytes).unwrap();
        assert_eq!(text, "统一社会信用代码,企业名称\n徐州市,中型\n");
        assert_eq!(encoding, SourceEncoding::Gb18030);
    }

    #[test]
    fn bytes_that_are_neither_utf8_nor_gb18030_are_refused_with_their_line() {
        // 0x81 0x20: a GB18030 lead byte followed by a byte that cannot trail it.
        let bytes = b"code,name\nA,\x81\x20x\n";
        assert_eq!(
            decode(bytes),
            Err(DecodeError::Malformed {
                line: 2,
                offset: 12,
                expected: "GB18030"
            })
        );
    }

    #[test]
    fn a_utf8_file_with_a_gbk_cell_is_refused_at_that_cell() {
        let mut bytes = "code,name\nA,市发改委\nB,".as_bytes().to_vec();
        let at = bytes.len();
        bytes.extend_from_slice(&GB18030.encode("张三").0);
        bytes.push(b'\n');
        assert_eq!(
            decode(&bytes),
            Err(DecodeError::Malformed {
                line: 3,
                offset: at,
                expected: "UTF-8"
            })
        );
    }

    #[test]
    fn invalid_utf8_after_a_bom_is_refused() {
        let bytes = b"\xEF\xBB\xBFcode\n\xC3\x28\n";
        assert_eq!(
            decode(bytes),
            Err(DecodeError::Malformed {
                line: 2,
                offset: 8,
                expected: "UTF-8"
            })
        );
    }

    #[test]
    fn nul_bytes_and_utf16_are_refused() {
        assert_eq!(
            decode(b"a,b\nc\0d\n"),
            Err(DecodeError::Nul { line: 2, offset: 5 })
        );
        assert_eq!(decode(b"\xFF\xFEc\0o\0"), Err(DecodeError::Utf16));
    }

    #[test]
    fn a_decode_error_becomes_an_import_error_on_its_line() {
        let error = super::super::ImportError::from(decode(b"a\n\x81\x20").unwrap_err());
        assert_eq!(error.line, 2);
        assert!(
            error
                .to_string()
                .starts_with("第 2 行: 有无法识别的字节(字节位置 2)"),
            "{error}"
        );
    }
}

//! Hostile inputs for the fuzz tests (tests/it/fuzz_*.rs): strings that have broken parsers, drivers
//! and spreadsheets before, and proptest strategies that mix them with valid values.

use proptest::prelude::*;

/// Text values worth trying in any field.
pub fn strings() -> Vec<String> {
    vec![
        String::new(),
        " ".into(),
        "\u{0}".into(),
        "a\u{0}b".into(),
        "\u{7}\u{1b}[31m".into(),
        "\r\n\r\n".into(),
        "\t".into(),
        "=HYPERLINK(\"http://evil.example/\",\"点我\")".into(),
        "+1+cmd|' /C calc'!A0".into(),
        "-2+3".into(),
        "@SUM(A1:A9)".into(),
        "<script>alert(1)</script>".into(),
        "\"><img src=x onerror=alert(1)>".into(),
        "'; DROP TABLE responses; --".into(),
        "%_\\".into(),
        "\u{202e}gnp.exe".into(),
        "\u{feff}".into(),
        "\u{fffd}\u{fffd}".into(),
        "𝕏😀👨‍👩‍👧".into(),
        "很好,非常满意".into(),
        "字".repeat(501),
        "x".repeat(70_000),
        "D01".into(),
        "D01-O1".into(),
        "d01".into(),
        " D01 ".into(),
        "slow".into(),
        "null".into(),
        "4".into(),
        "na".into(),
        "0".into(),
        "-1".into(),
        "99999999999999999999".into(),
        "1e308".into(),
        "NaN".into(),
    ]
}

/// One of [`strings`], or arbitrary text.
pub fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(strings()),
        1 => any::<String>(),
    ]
}

/// Bytes that are not valid UTF-8 in several ways, to splice into text.
pub fn bad_bytes() -> Vec<Vec<u8>> {
    vec![
        vec![0xff, 0xfe],
        vec![0xc3],             // a lone lead byte
        vec![0xed, 0xa0, 0x80], // an encoded surrogate
        vec![0xc0, 0xaf],       // an overlong '/'
        vec![0xd6, 0xd0],       // GBK 中 inside UTF-8 text: mixed encodings
        vec![0x00],
    ]
}

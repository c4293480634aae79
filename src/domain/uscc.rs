//! 统一社会信用代码 (unified social credit code, GB 32100-2015): the enterprise's identity.
//!
//! Layout of the 18 characters:
//! - 1: registration authority code (登记管理部门代码; `1` 机构编制, `5` 民政, `9` 工商, `Y` 其他 …).
//!   Authorities keep adding codes, so any character of the alphabet is accepted here.
//! - 2: organisation type code (机构类别代码), any alphabet character for the same reason.
//! - 3–8: administrative division code (登记管理机关行政区划码), six digits.
//! - 9–17: organisation code (主体标识码).
//! - 18: check character, computed from the first 17 (see [`uscc_check_character`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The 31 characters a code may use: digits and upper-case letters except I, O, Z, S, V.
pub const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1–17 (3^(i−1) mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Length of a code in characters.
pub const USCC_LEN: usize = 18;

/// Why a string is not a valid 统一社会信用代码; each variant names the rule that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("长度应为18位,实为{found}位 (length must be 18, found {found})")]
    Length { found: usize },
    #[error(
        "第{position}位字符「{found}」不在代码字符集内 (invalid character at position {position}; I, O, Z, S, V are not used)"
    )]
    InvalidCharacter { position: usize, found: char },
    #[error(
        "第{position}位应为数字(第3–8位是行政区划码) (positions 3–8 are the division code and must be digits)"
    )]
    DivisionNotDigits { position: usize },
    #[error(
        "校验位错误,应为 {expected},实为 {found} (check character should be {expected}, found {found})"
    )]
    CheckCharacter { expected: char, found: char },
}

/// A 统一社会信用代码 that passed every rule of GB 32100-2015; always upper case, 18 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uscc(String);

fn char_value(c: char) -> Option<u32> {
    USCC_ALPHABET.find(c).map(|i| i as u32)
}

/// The check character for the first 17 characters of a code (lower case is accepted). Lets tests and
/// the demo make valid codes. A wrong length is reported as the length the whole code would have
/// (`first17.len() + 1`), so the message reads the same as [`Uscc::parse`]'s.
pub fn uscc_check_character(first17: &str) -> Result<char, UsccError> {
    let chars: Vec<char> = first17.chars().map(|c| c.to_ascii_uppercase()).collect();
    if chars.len() != USCC_LEN - 1 {
        return Err(UsccError::Length {
            found: chars.len() + 1,
        });
    }
    let mut sum = 0u32;
    for (i, (&c, w)) in chars.iter().zip(WEIGHTS).enumerate() {
        let value = char_value(c).ok_or(UsccError::InvalidCharacter {
            position: i + 1,
            found: c,
        })?;
        sum += value * w;
    }
    let check = (31 - sum % 31) % 31;
    Ok(USCC_ALPHABET.as_bytes()[check as usize] as char)
}

impl Uscc {
    /// Parses a code: surrounding whitespace is trimmed and lower case is upper-cased.
    pub fn parse(input: &str) -> Result<Uscc, UsccError> {
        let code: String = input
            .trim()
            .chars()
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != USCC_LEN {
            return Err(UsccError::Length { found: chars.len() });
        }
        for (i, &c) in chars.iter().enumerate() {
            if char_value(c).is_none() {
                return Err(UsccError::InvalidCharacter {
                    position: i + 1,
                    found: c,
                });
            }
        }
        if let Some(i) = (2..8).find(|&i| !chars[i].is_ascii_digit()) {
            return Err(UsccError::DivisionNotDigits { position: i + 1 });
        }
        let expected = uscc_check_character(&code[..USCC_LEN - 1])?;
        let found = chars[USCC_LEN - 1];
        if expected != found {
            return Err(UsccError::CheckCharacter { expected, found });
        }
        Ok(Uscc(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The six-digit administrative division code (positions 3–8).
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Uscc {
    type Err = UsccError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uscc::parse(s)
    }
}

impl AsRef<str> for Uscc {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Uscc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uscc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Uscc::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_from(first17: &str) -> String {
        let check = uscc_check_character(first17).unwrap();
        format!("{first17}{check}")
    }

    #[test]
    fn a_known_published_code_is_valid() {
        assert_eq!(uscc_check_character("91350100M000100Y4").unwrap(), '3');
        let code = Uscc::parse("91350100M000100Y43").unwrap();
        assert_eq!(code.as_str(), "91350100M000100Y43");
        assert_eq!(code.division_code(), "350100");
    }

    #[test]
    fn codes_computed_from_the_weights_are_valid() {
        for first17 in [
            "91320300MA1MXXXX0",
            "12320300466000012",
            "51320300MJ0000001",
            "Y1320311000000000",
        ] {
            let code = valid_from(first17);
            assert_eq!(Uscc::parse(&code).unwrap().to_string(), code);
        }
    }

    #[test]
    fn a_check_value_of_zero_gives_the_character_zero() {
        // Σ = 0 → (31 − 0) mod 31 = 0, not 31.
        assert_eq!(uscc_check_character("00000000000000000").unwrap(), '0');
        assert!(Uscc::parse("000000000000000000").is_ok());
    }

    #[test]
    fn whitespace_is_trimmed_and_lower_case_is_upper_cased() {
        let code = Uscc::parse("  91350100m000100y43\t").unwrap();
        assert_eq!(code.as_str(), "91350100M000100Y43");
    }

    #[test]
    fn a_wrong_length_is_rejected_with_the_length_found() {
        assert_eq!(
            Uscc::parse("91350100M000100Y4"),
            Err(UsccError::Length { found: 17 })
        );
        assert_eq!(Uscc::parse(""), Err(UsccError::Length { found: 0 }));
        assert_eq!(
            Uscc::parse("统一社会信用代码"),
            Err(UsccError::Length { found: 8 })
        );
    }

    #[test]
    fn letters_outside_the_alphabet_are_rejected_with_their_position() {
        for bad in ['I', 'O', 'Z', 'S', 'V', '-', '中'] {
            let code = format!("91350100M000{bad}00Y43");
            assert_eq!(
                Uscc::parse(&code),
                Err(UsccError::InvalidCharacter {
                    position: 13,
                    found: bad
                })
            );
        }
    }

    #[test]
    fn a_letter_in_the_division_code_is_rejected() {
        let code = valid_from("9135A100M000100Y4");
        assert_eq!(
            Uscc::parse(&code),
            Err(UsccError::DivisionNotDigits { position: 5 })
        );
    }

    #[test]
    fn a_wrong_check_character_is_rejected_naming_both() {
        assert_eq!(
            Uscc::parse("91350100M000100Y4X"),
            Err(UsccError::CheckCharacter {
                expected: '3',
                found: 'X'
            })
        );
        let message = Uscc::parse("91350100M000100Y40").unwrap_err().to_string();
        assert!(message.contains("校验位错误,应为 3,实为 0"), "{message}");
    }

    #[test]
    fn serde_uses_the_plain_string_and_validates() {
        let code = Uscc::parse("91350100M000100Y43").unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, "\"91350100M000100Y43\"");
        assert_eq!(serde_json::from_str::<Uscc>(&json).unwrap(), code);
        assert!(serde_json::from_str::<Uscc>("\"91350100M000100Y40\"").is_err());
    }
}

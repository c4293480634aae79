//! The rated bodies (被评议单位): departments, their offices, and grassroots stations.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The registry's code of a unit: 1–32 characters of `A–Z a–z 0–9 _ . -`, case preserved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitCode(String);

/// Longest unit code accepted.
pub const UNIT_CODE_MAX: usize = 32;

/// Why a string is not a unit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitCodeError {
    #[error("单位编码为空 (unit code is empty)")]
    Empty,
    #[error("单位编码过长:最多32个字符,实为{found}个 (unit code longer than 32 characters)")]
    TooLong { found: usize },
    #[error(
        "单位编码第{position}个字符「{found}」不允许,只能用字母、数字、_ . - (character not allowed in a unit code)"
    )]
    InvalidCharacter { position: usize, found: char },
}

impl UnitCode {
    /// Parses a code after trimming surrounding whitespace.
    pub fn parse(input: &str) -> Result<UnitCode, UnitCodeError> {
        let code = input.trim();
        if code.is_empty() {
            return Err(UnitCodeError::Empty);
        }
        let len = code.chars().count();
        if let Some((i, c)) = code
            .chars()
            .enumerate()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(UnitCodeError::InvalidCharacter {
                position: i + 1,
                found: c,
            });
        }
        if len > UNIT_CODE_MAX {
            return Err(UnitCodeError::TooLong { found: len });
        }
        Ok(UnitCode(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UnitCode {
    type Err = UnitCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UnitCode::parse(s)
    }
}

impl AsRef<str> for UnitCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for UnitCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UnitCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        UnitCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What kind of body a unit is; offices and stations belong to a department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Department,
    Office,
    Station,
}

/// An unknown unit kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "未知的单位类型「{0}」,应为 部门、处室、基层站所 或 department、office、station (unknown unit kind)"
)]
pub struct UnknownUnitKind(pub String);

impl UnitKind {
    pub const ALL: [UnitKind; 3] = [UnitKind::Department, UnitKind::Office, UnitKind::Station];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Department => "department",
            UnitKind::Office => "office",
            UnitKind::Station => "station",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            UnitKind::Department => "部门",
            UnitKind::Office => "处室",
            UnitKind::Station => "基层站所",
        }
    }

    /// Offices and stations hang under a department; departments stand alone.
    pub fn needs_parent(self) -> bool {
        self != UnitKind::Department
    }

    /// The peer group a unit is ranked in when the registry leaves it empty: its kind's label.
    pub fn default_peer_group(self) -> &'static str {
        self.label_zh()
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UnitKind {
    type Err = UnknownUnitKind;
    /// English (any case) or Chinese; 站所 is accepted for 基层站所.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t == "站所" {
            return Ok(UnitKind::Station);
        }
        UnitKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(t) || k.label_zh() == t)
            .ok_or_else(|| UnknownUnitKind(s.to_string()))
    }
}

/// A unit as the registry describes it. Build it with [`Unit::new`] so its rules hold.
/// Serializable for JSON output; not deserializable, so every `Unit` went through [`Unit::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub kind: UnitKind,
    /// The department an office or station belongs to; `None` for a department.
    pub parent_code: Option<UnitCode>,
    /// The set this unit is ranked within (排名组).
    pub peer_group: String,
    /// The unit this one replaces after a rename or merger, so its history carries over.
    pub predecessor_code: Option<UnitCode>,
}

/// A unit that breaks a registry rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("单位名称为空 (unit name is empty)")]
    EmptyName,
    #[error("排名组为空 (peer group is empty)")]
    EmptyPeerGroup,
    #[error("{}必须填写上级单位编码 (a unit of kind {} needs a parent department)", kind.label_zh(), kind.as_str())]
    MissingParent { kind: UnitKind },
    #[error("部门不能有上级单位(填了「{parent}」) (a department has no parent)")]
    DepartmentWithParent { parent: UnitCode },
    #[error("上级单位不能是自己 (a unit cannot be its own parent)")]
    OwnParent,
    #[error("前身单位不能是自己 (a unit cannot be its own predecessor)")]
    OwnPredecessor,
}

impl Unit {
    /// Checks the rules: name and peer group non-empty (trimmed), offices and stations name a parent,
    /// departments do not (departments are the top of the registry; a bureau under another bureau is
    /// registered as a department of its own), and a unit is neither its own parent nor predecessor.
    pub fn new(
        code: UnitCode,
        name: &str,
        kind: UnitKind,
        parent_code: Option<UnitCode>,
        peer_group: &str,
        predecessor_code: Option<UnitCode>,
    ) -> Result<Unit, UnitError> {
        let name = name.trim();
        let peer_group = peer_group.trim();
        if name.is_empty() {
            return Err(UnitError::EmptyName);
        }
        if peer_group.is_empty() {
            return Err(UnitError::EmptyPeerGroup);
        }
        match (&parent_code, kind.needs_parent()) {
            (None, true) => return Err(UnitError::MissingParent { kind }),
            (Some(parent), false) => {
                return Err(UnitError::DepartmentWithParent {
                    parent: parent.clone(),
                });
            }
            _ => {}
        }
        if parent_code.as_ref() == Some(&code) {
            return Err(UnitError::OwnParent);
        }
        if predecessor_code.as_ref() == Some(&code) {
            return Err(UnitError::OwnPredecessor);
        }
        Ok(Unit {
            code,
            name: name.to_string(),
            kind,
            parent_code,
            peer_group: peer_group.to_string(),
            predecessor_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).unwrap()
    }

    #[test]
    fn a_unit_code_is_trimmed_and_keeps_its_case() {
        assert_eq!(code("  SCJGJ-01.a_b ").as_str(), "SCJGJ-01.a_b");
    }

    #[test]
    fn a_unit_code_names_the_offending_character() {
        assert_eq!(
            UnitCode::parse("SW 01"),
            Err(UnitCodeError::InvalidCharacter {
                position: 3,
                found: ' '
            })
        );
        assert_eq!(
            UnitCode::parse("税务局"),
            Err(UnitCodeError::InvalidCharacter {
                position: 1,
                found: '税'
            })
        );
        assert_eq!(UnitCode::parse("  "), Err(UnitCodeError::Empty));
        assert_eq!(
            UnitCode::parse(&"A".repeat(33)),
            Err(UnitCodeError::TooLong { found: 33 })
        );
        assert!(UnitCode::parse(&"A".repeat(32)).is_ok());
    }

    #[test]
    fn unit_kinds_parse_in_both_languages() {
        for kind in UnitKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
            assert_eq!(kind.as_str().to_uppercase().parse(), Ok(kind));
            assert_eq!(format!(" {} ", kind.label_zh()).parse(), Ok(kind));
        }
        assert_eq!("站所".parse(), Ok(UnitKind::Station));
        assert!("科室".parse::<UnitKind>().is_err());
    }

    #[test]
    fn an_office_needs_a_parent_and_a_department_has_none() {
        let office = Unit::new(
            code("SW-01"),
            "纳税服务科",
            UnitKind::Office,
            None,
            "处室",
            None,
        );
        assert_eq!(
            office,
            Err(UnitError::MissingParent {
                kind: UnitKind::Office
            })
        );
        let dept = Unit::new(
            code("SW"),
            "税务局",
            UnitKind::Department,
            Some(code("X")),
            "部门",
            None,
        );
        assert_eq!(
            dept,
            Err(UnitError::DepartmentWithParent { parent: code("X") })
        );
    }

    #[test]
    fn a_valid_unit_is_built_with_trimmed_texts() {
        let unit = Unit::new(
            code("SW-01"),
            " 纳税服务科 ",
            UnitKind::Office,
            Some(code("SW")),
            " 处室 ",
            Some(code("SW-00")),
        )
        .unwrap();
        assert_eq!(unit.name, "纳税服务科");
        assert_eq!(unit.peer_group, "处室");
    }

    #[test]
    fn a_unit_cannot_be_its_own_parent_or_predecessor() {
        let own_parent = Unit::new(
            code("A"),
            "甲",
            UnitKind::Office,
            Some(code("A")),
            "处室",
            None,
        );
        assert_eq!(own_parent, Err(UnitError::OwnParent));
        let own_pred = Unit::new(
            code("A"),
            "甲",
            UnitKind::Department,
            None,
            "部门",
            Some(code("A")),
        );
        assert_eq!(own_pred, Err(UnitError::OwnPredecessor));
        assert_eq!(
            Unit::new(code("A"), " ", UnitKind::Department, None, "部门", None),
            Err(UnitError::EmptyName)
        );
        assert_eq!(
            Unit::new(code("A"), "甲", UnitKind::Department, None, "", None),
            Err(UnitError::EmptyPeerGroup)
        );
    }
}

//! What a sealed ballot holds, and its fixed-size encoding.
//!
//! A ballot names units by their registry id, answers by the position of the question in the
//! campaign's frozen template, and problem marks by the position of the problem. It is encoded in a
//! fixed binary layout and padded with zeros to one size per campaign ([`BallotLayout`]), set when
//! the campaign opens and never from what an enterprise wrote: every sealed ballot of a campaign has
//! the same length, whether it rates one unit without a comment or every unit with a long one.
//!
//! Encoding (format 1), all integers big-endian:
//!
//! ```text
//! format u8 = 1 | unit count u16
//! per unit: unit id i64 | flags u8 (bit 0: added by the enterprise itself)
//!           | one byte per question (0 = 不了解/未接触, 1–5 = the level)
//!           | problem marks, one bit per problem (ceil(problems / 8) bytes)
//!           | comment length in UTF-16 code units u16
//! the comments in UTF-16 (big-endian), one after another in unit order
//! zeros up to the layout's plaintext length
//! ```

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// Format of the plaintext inside a sealed ballot.
pub const CONTENT_FORMAT: u8 = 1;

/// Most units an enterprise may add itself to the ones it was asked about (the survey page's
/// 「添加其他单位」). Part of every campaign's ballot size.
pub const MAX_ADDED_UNITS: usize = 5;

/// Default comment budget of one ballot, in characters, across all of its units: the survey's
/// ([`crate::domain::answers::COMMENT_BUDGET_CHARS`]).
///
/// Characters are counted as a browser counts a text field's length (UTF-16 code units: a Chinese
/// character is one, an emoji two), so the page's counter and the server agree, and a ballot's
/// comment region is exactly two bytes per character of budget.
pub const DEFAULT_COMMENT_BUDGET_CHARS: usize = crate::domain::answers::COMMENT_BUDGET_CHARS;

/// Most units one invitation may be asked about: the open refuses a campaign with an invitation
/// over it, so that one enterprise's long list cannot make every ballot of the campaign huge.
pub const MAX_ASSIGNED_UNITS: usize = 60;

/// Most comment characters a campaign may allow in one ballot.
pub const MAX_COMMENT_BUDGET_CHARS: usize = 20_000;

/// One unit's part of a ballot. `levels` has one entry per question of the template, in its order
/// (`None` = 不了解/未接触); `problems` are positions in the template's problem list.
#[derive(Clone, PartialEq, Eq)]
pub struct RatedUnit {
    pub unit_id: i64,
    pub self_selected: bool,
    pub levels: Vec<Option<u8>>,
    pub problems: Vec<u16>,
    pub comment: Option<String>,
}

/// Everything one enterprise answered. Its `Debug` prints `***`: an answer must never reach a log.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct BallotContent {
    pub units: Vec<RatedUnit>,
}

impl fmt::Debug for BallotContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BallotContent(***)")
    }
}

impl fmt::Debug for RatedUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RatedUnit(***)")
    }
}

impl Drop for BallotContent {
    fn drop(&mut self) {
        for unit in &mut self.units {
            unit.unit_id.zeroize();
            unit.levels.zeroize();
            unit.problems.zeroize();
            if let Some(comment) = unit.comment.as_mut() {
                comment.zeroize();
            }
        }
    }
}

/// The shape every ballot of one campaign is padded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BallotLayout {
    /// Questions of the frozen template.
    pub questions: usize,
    /// Problems of the frozen template.
    pub problems: usize,
    /// Most units one ballot may rate: the largest assignment plus [`MAX_ADDED_UNITS`].
    pub units: usize,
    /// Comment characters one ballot may hold, all units together.
    pub comment_chars: usize,
}

/// Why a layout cannot be made for a campaign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error(
        "有企业被分配了 {assigned} 个评议单位,超过单份答卷的上限 {MAX_ASSIGNED_UNITS} 个;请拆分该企业的办事记录"
    )]
    TooManyAssigned { assigned: usize },
    #[error("每份答卷的意见字数上限须在 1 到 {MAX_COMMENT_BUDGET_CHARS} 之间(现为 {0})", .chars)]
    CommentBudget { chars: usize },
    #[error("问卷模板的题目或问题选项过多")]
    Template,
}

impl BallotLayout {
    /// The layout of a campaign: from its template's questions and problems, the most units assigned
    /// to one invitation, and its comment budget.
    pub fn for_campaign(
        questions: usize,
        problems: usize,
        largest_assignment: usize,
        comment_chars: usize,
    ) -> Result<Self, LayoutError> {
        if largest_assignment > MAX_ASSIGNED_UNITS {
            return Err(LayoutError::TooManyAssigned {
                assigned: largest_assignment,
            });
        }
        if comment_chars == 0 || comment_chars > MAX_COMMENT_BUDGET_CHARS {
            return Err(LayoutError::CommentBudget {
                chars: comment_chars,
            });
        }
        Self::new(
            questions,
            problems,
            largest_assignment + MAX_ADDED_UNITS,
            comment_chars,
        )
    }

    /// A layout from its four numbers as stored with the campaign.
    pub fn new(
        questions: usize,
        problems: usize,
        units: usize,
        comment_chars: usize,
    ) -> Result<Self, LayoutError> {
        if questions > 255 || problems > u16::MAX as usize || units > u16::MAX as usize {
            return Err(LayoutError::Template);
        }
        if comment_chars > MAX_COMMENT_BUDGET_CHARS {
            return Err(LayoutError::CommentBudget {
                chars: comment_chars,
            });
        }
        Ok(Self {
            questions,
            problems,
            units,
            comment_chars,
        })
    }

    fn problem_bytes(&self) -> usize {
        self.problems.div_ceil(8)
    }

    fn unit_bytes(&self) -> usize {
        8 + 1 + self.questions + self.problem_bytes() + 2
    }

    fn comment_bytes(&self) -> usize {
        self.comment_chars * 2
    }

    /// Bytes of every ballot's plaintext in this layout.
    pub fn plaintext_len(&self) -> usize {
        3 + self.units * self.unit_bytes() + self.comment_bytes()
    }
}

/// Why a ballot's content does not fit its campaign's layout (checked before sealing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("一份答卷最多评价 {max} 个单位(本份 {units} 个)")]
    TooManyUnits { units: usize, max: usize },
    #[error("意见合计 {chars} 字,超过每份答卷 {budget} 字的上限")]
    CommentBudget { chars: usize, budget: usize },
    #[error("答卷内容与问卷模板不符")]
    Shape,
}

/// Why an opened plaintext is not a ballot of this layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("ballot plaintext has {found} bytes, the layout expects {expected}")]
    Length { found: usize, expected: usize },
    #[error("ballot content format {0} is not known")]
    Format(u8),
    #[error("ballot content is malformed: {0}")]
    Malformed(&'static str),
}

impl BallotContent {
    /// Characters of all comments together, counted as [`DEFAULT_COMMENT_BUDGET_CHARS`] says.
    pub fn comment_chars(&self) -> usize {
        self.units
            .iter()
            .filter_map(|u| u.comment.as_deref())
            .map(budget_chars)
            .sum()
    }

    /// The padded plaintext of this content in `layout`.
    pub fn encode(&self, layout: &BallotLayout) -> Result<Zeroizing<Vec<u8>>, EncodeError> {
        if self.units.len() > layout.units {
            return Err(EncodeError::TooManyUnits {
                units: self.units.len(),
                max: layout.units,
            });
        }
        let chars = self.comment_chars();
        if chars > layout.comment_chars {
            return Err(EncodeError::CommentBudget {
                chars,
                budget: layout.comment_chars,
            });
        }
        let mut out = Zeroizing::new(Vec::with_capacity(layout.plaintext_len()));
        out.push(CONTENT_FORMAT);
        out.extend_from_slice(&(self.units.len() as u16).to_be_bytes());
        for unit in &self.units {
            if unit.levels.len() != layout.questions {
                return Err(EncodeError::Shape);
            }
            out.extend_from_slice(&unit.unit_id.to_be_bytes());
            out.push(u8::from(unit.self_selected));
            for level in &unit.levels {
                match level {
                    None => out.push(0),
                    Some(l @ 1..=5) => out.push(*l),
                    Some(_) => return Err(EncodeError::Shape),
                }
            }
            let mut bits = vec![0u8; layout.problem_bytes()];
            for &p in &unit.problems {
                let p = usize::from(p);
                if p >= layout.problems {
                    return Err(EncodeError::Shape);
                }
                bits[p / 8] |= 1 << (p % 8);
            }
            out.extend_from_slice(&bits);
            let len = unit.comment.as_deref().map_or(0, budget_chars);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        for unit in &self.units {
            if let Some(comment) = &unit.comment {
                for code_unit in comment.encode_utf16() {
                    out.extend_from_slice(&code_unit.to_be_bytes());
                }
            }
        }
        debug_assert!(out.len() <= layout.plaintext_len());
        out.resize(layout.plaintext_len(), 0);
        Ok(out)
    }

    /// The content of a padded plaintext; every byte must be where the layout puts it (padding
    /// included), or the ballot is refused as malformed.
    pub fn decode(bytes: &[u8], layout: &BallotLayout) -> Result<Self, DecodeError> {
        if bytes.len() != layout.plaintext_len() {
            return Err(DecodeError::Length {
                found: bytes.len(),
                expected: layout.plaintext_len(),
            });
        }
        if bytes[0] != CONTENT_FORMAT {
            return Err(DecodeError::Format(bytes[0]));
        }
        let count = usize::from(u16::from_be_bytes([bytes[1], bytes[2]]));
        if count > layout.units {
            return Err(DecodeError::Malformed("more units than the layout holds"));
        }
        let mut at = 3;
        let mut units = Vec::with_capacity(count);
        let mut lengths = Vec::with_capacity(count);
        for _ in 0..count {
            let field = &bytes[at..at + layout.unit_bytes()];
            at += layout.unit_bytes();
            let mut id = [0u8; 8];
            id.copy_from_slice(&field[..8]);
            let flags = field[8];
            if flags > 1 {
                return Err(DecodeError::Malformed("unknown unit flags"));
            }
            let mut levels = Vec::with_capacity(layout.questions);
            for &b in &field[9..9 + layout.questions] {
                levels.push(match b {
                    0 => None,
                    1..=5 => Some(b),
                    _ => return Err(DecodeError::Malformed("level out of range")),
                });
            }
            let bits = &field[9 + layout.questions..9 + layout.questions + layout.problem_bytes()];
            let mut problems = Vec::new();
            for p in 0..layout.problems {
                if bits[p / 8] & (1 << (p % 8)) != 0 {
                    problems.push(p as u16);
                }
            }
            let spare = layout.problem_bytes() * 8 - layout.problems;
            if spare > 0
                && let Some(&last) = bits.last()
                && last >> (8 - spare) != 0
            {
                return Err(DecodeError::Malformed("problem mark out of range"));
            }
            let n = field.len();
            lengths.push(usize::from(u16::from_be_bytes([
                field[n - 2],
                field[n - 1],
            ])));
            units.push(RatedUnit {
                unit_id: i64::from_be_bytes(id),
                self_selected: flags == 1,
                levels,
                problems,
                comment: None,
            });
        }
        let mut comment_chars = 0;
        for (unit, len) in units.iter_mut().zip(lengths) {
            if len == 0 {
                continue;
            }
            let Some(raw) = bytes.get(at..at + 2 * len) else {
                return Err(DecodeError::Malformed("comment runs past the ballot"));
            };
            let code_units: Zeroizing<Vec<u16>> = Zeroizing::new(
                raw.chunks_exact(2)
                    .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                    .collect(),
            );
            let text = String::from_utf16(&code_units)
                .map_err(|_| DecodeError::Malformed("comment is not UTF-16"))?;
            comment_chars += len;
            unit.comment = Some(text);
            at += 2 * len;
        }
        if comment_chars > layout.comment_chars {
            return Err(DecodeError::Malformed("comments over the budget"));
        }
        if bytes[at..].iter().any(|&b| b != 0) {
            return Err(DecodeError::Malformed("padding is not zero"));
        }
        Ok(Self { units })
    }
}

pub use crate::domain::answers::budget_chars;

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> BallotLayout {
        BallotLayout::for_campaign(5, 10, 8, 100).expect("layout")
    }

    fn unit(id: i64, comment: Option<&str>) -> RatedUnit {
        RatedUnit {
            unit_id: id,
            self_selected: id % 2 == 0,
            levels: vec![Some(5), None, Some(1), Some(3), None],
            problems: vec![0, 7, 9],
            comment: comment.map(str::to_owned),
        }
    }

    #[test]
    fn round_trip_at_one_length() {
        let layout = layout();
        let small = BallotContent {
            units: vec![unit(1, None)],
        };
        let large = BallotContent {
            units: (0..13)
                .map(|i| unit(i64::MAX - i, Some("窗口办事很快")))
                .collect(),
        };
        for content in [&small, &large, &BallotContent::default()] {
            let bytes = content.encode(&layout).expect("encode");
            assert_eq!(bytes.len(), layout.plaintext_len());
            assert_eq!(
                &BallotContent::decode(&bytes, &layout).expect("decode"),
                content
            );
        }
    }

    #[test]
    fn budgets_are_enforced() {
        let layout = layout();
        let too_many = BallotContent {
            units: (0..14).map(|i| unit(i, None)).collect(),
        };
        assert!(matches!(
            too_many.encode(&layout),
            Err(EncodeError::TooManyUnits { units: 14, max: 13 })
        ));
        let long = "字".repeat(101);
        let wordy = BallotContent {
            units: vec![unit(1, Some(&long))],
        };
        assert!(matches!(
            wordy.encode(&layout),
            Err(EncodeError::CommentBudget {
                chars: 101,
                budget: 100
            })
        ));
        // Emoji count two, as a browser's counter counts them: fifty fill a budget of 100.
        let emoji = BallotContent {
            units: vec![unit(1, Some(&"😀".repeat(50)))],
        };
        assert_eq!(
            emoji.encode(&layout).expect("fits").len(),
            layout.plaintext_len()
        );
        let more = BallotContent {
            units: vec![unit(1, Some(&"😀".repeat(51)))],
        };
        assert!(more.encode(&layout).is_err());
        assert!(BallotLayout::for_campaign(5, 10, MAX_ASSIGNED_UNITS + 1, 100).is_err());
    }

    #[test]
    fn nonzero_padding_is_refused() {
        let layout = layout();
        let mut bytes = BallotContent::default().encode(&layout).expect("encode");
        let last = bytes.len() - 1;
        bytes[last] = 1;
        assert!(BallotContent::decode(&bytes, &layout).is_err());
    }

    #[test]
    fn debug_hides_the_answers() {
        let content = BallotContent {
            units: vec![unit(42, Some("秘密意见"))],
        };
        let shown = format!("{content:?} {:?}", content.units[0]);
        assert!(!shown.contains("秘密") && !shown.contains("42"), "{shown}");
    }
}

//! What can be wrong with a questionnaire file; each error names the field or question at fault.

use std::path::Path;

/// A template that cannot be used. `field` is a path into the file, e.g. `questions[2](efficiency).weight`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("无法读取问卷文件 {path}: {message} (cannot read template)")]
    Read { path: String, message: String },
    #[error("问卷文件 {path}: {source}")]
    InFile {
        path: String,
        #[source]
        source: Box<TemplateError>,
    },
    #[error("问卷 TOML 格式错误 (template syntax): {0}")]
    Syntax(String),
    #[error("{field} 不能为空 (must not be empty)")]
    EmptyText { field: String },
    #[error("{field} 的编号「{id}」只能由小写字母、数字和 _ 组成 (id must match [a-z0-9_]+)")]
    InvalidId { field: String, id: String },
    #[error("问题编号「{id}」重复 (duplicate question id)")]
    DuplicateQuestionId { id: String },
    #[error("问题清单编号「{id}」重复 (duplicate problem id)")]
    DuplicateProblemId { id: String },
    #[error("问卷至少要有一个问题 (template has no questions)")]
    NoQuestions,
    #[error(
        "问题「{question}」的权重 {weight} 必须是大于 0 的有限数 (weight must be finite and > 0)"
    )]
    Weight { question: String, weight: f64 },
    #[error("评分等级应恰好 5 个,实为 {found} 个 (scale must have exactly five levels)")]
    LevelCount { found: usize },
    #[error("评分等级的值应为 5、4、3、2、1 各一个,实为 {found:?} (level values must be 5..1)")]
    LevelValues { found: Vec<u8> },
    #[error("等级 {value} 的分值 {points} 不是有限数 (points must be finite)")]
    PointsNotFinite { value: u8, points: f64 },
    #[error(
        "等级 {value} 的分值 {points} 应高于等级 {lower} 的分值 {lower_points} (points must decrease with the level)"
    )]
    PointsNotDecreasing {
        value: u8,
        points: f64,
        lower: u8,
        lower_points: f64,
    },
    #[error("应恰好有一个问题标记 overall = true,实为 {found} 个 (exactly one overall question)")]
    OverallCount { found: usize },
    #[error("comment.max_chars 应在 1 到 {limit} 之间,实为 {found} (comment length out of range)")]
    CommentMaxChars { found: i64, limit: usize },
}

impl TemplateError {
    /// Adds the file's path to an error found while loading it.
    pub(super) fn in_file(self, path: &Path) -> TemplateError {
        match self {
            TemplateError::Read { .. } | TemplateError::InFile { .. } => self,
            other => TemplateError::InFile {
                path: path.display().to_string(),
                source: Box::new(other),
            },
        }
    }
}

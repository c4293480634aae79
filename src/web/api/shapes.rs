//! The JSON shapes of docs/interface.md §3.1, built from service values (never from database rows).

use serde::{Deserialize, Serialize};

use crate::domain::{RawRating, time};
use crate::service::survey::SurveyView;
use crate::web::error::FieldError;

/// `GET /api/v1/survey/{token}`.
#[derive(Debug, Serialize)]
pub struct SurveyJson {
    period: String,
    /// The last instant answers are taken: the end of the closing day, Beijing time, in UTC.
    closes_at: String,
    comment_max_chars: usize,
    units: Vec<UnitJson>,
    questions: Vec<QuestionJson>,
    problems: Vec<ProblemJson>,
}

#[derive(Debug, Serialize)]
struct UnitJson {
    code: String,
    name: String,
    kind: String,
    department: String,
}

#[derive(Debug, Serialize)]
struct QuestionJson {
    id: String,
    label: String,
    dimension: String,
    weight: f64,
    required: bool,
    levels: Vec<LevelJson>,
    allows_na: bool,
}

#[derive(Debug, Serialize)]
struct LevelJson {
    value: u8,
    label: String,
    points: f64,
}

#[derive(Debug, Serialize)]
struct ProblemJson {
    id: String,
    label: String,
}

impl SurveyJson {
    pub fn new(view: &SurveyView, english: bool) -> Self {
        let pick = |zh: &str, en: &str| {
            if english {
                en.to_owned()
            } else {
                zh.to_owned()
            }
        };
        let template = &view.link.campaign.template;
        let closes = time::end_of_local_day(view.link.closes_on);
        SurveyJson {
            period: view.link.campaign.period.clone(),
            closes_at: closes
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            comment_max_chars: template.comment_max_chars(),
            units: view
                .units
                .iter()
                .map(|u| UnitJson {
                    code: u.code.clone(),
                    name: u.name.clone(),
                    kind: u.kind.clone(),
                    department: u.department.clone(),
                })
                .collect(),
            questions: template
                .questions()
                .iter()
                .map(|q| QuestionJson {
                    id: q.id.clone(),
                    label: pick(&q.label_zh, &q.label_en),
                    dimension: pick(&q.dimension_zh, &q.dimension_en),
                    weight: q.weight,
                    required: q.required,
                    levels: template
                        .levels()
                        .iter()
                        .map(|l| LevelJson {
                            value: l.value,
                            label: pick(&l.label_zh, &l.label_en),
                            points: l.points,
                        })
                        .collect(),
                    allows_na: q.allows_na,
                })
                .collect(),
            problems: template
                .problems()
                .iter()
                .map(|p| ProblemJson {
                    id: p.id.clone(),
                    label: pick(&p.label_zh, &p.label_en),
                })
                .collect(),
        }
    }
}

/// `POST /api/v1/responses`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionBody {
    pub token: String,
    pub ratings: Vec<RawRating>,
}

impl SubmissionBody {
    /// Parses the body; a body that is not UTF-8 or not the documented shape is a 422 that says
    /// where (serde's line and column), like any other invalid answer.
    pub fn parse(body: &[u8]) -> Result<Self, Vec<FieldError>> {
        let text = std::str::from_utf8(body).map_err(|_| {
            vec![FieldError {
                field: "body".into(),
                message: "请求体不是有效的 UTF-8".into(),
            }]
        })?;
        serde_json::from_str(text).map_err(|e| {
            vec![FieldError {
                field: "body".into(),
                message: format!("JSON 格式有误: {e}"),
            }]
        })
    }
}

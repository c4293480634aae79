//! The survey page's view model: the questionnaire, the units grouped by department, and — after
//! a refused submission — the answers kept and each error beside its field.

use std::collections::HashMap;

use askama::Template;
use sha2::{Digest, Sha256};

use super::texts::{Lang, Texts};
use crate::db::survey_units::SurveyUnitRow;
use crate::domain::{AnswerError, RawRating, RawSubmission, SurveyTemplate, anonymity};
use crate::service::survey::{SurveyUnit, SurveyView};

/// `survey/form.html`. It borrows its texts from the questionnaire and the view: a page of ten
/// units holds some four hundred of them, and copying each cost more than rendering it.
#[derive(Template)]
#[template(path = "survey/form.html", whitespace = "minimize")]
pub struct FormPage<'a> {
    pub lang: &'static str,
    pub t: &'static Texts,
    pub title: &'a str,
    pub intro: Vec<&'a str>,
    pub closes_on: String,
    /// The campaign is weighted: the page says what the weights leave.
    pub weighted: bool,
    pub action: String,
    /// The separate named problem form (`/s/{token}/problem`), opened in a new tab.
    pub problem_url: String,
    pub switch_url: String,
    pub progress_key: String,
    pub restore: bool,
    pub errors: usize,
    pub form_error: Option<String>,
    pub departments: Vec<DepartmentBlock<'a>>,
    pub problems_prompt: &'a str,
    pub comment_label: &'a str,
    pub comment_limit: String,
    pub comment_max: usize,
    /// All comments together ([`crate::domain::answers::COMMENT_BUDGET_CHARS`]), said under the
    /// submit button; the script shows how much of it is used.
    pub comment_budget: String,
    pub comment_budget_max: usize,
    pub query: String,
    pub searched: bool,
    pub hits: Vec<UnitHit>,
}

pub struct DepartmentBlock<'a> {
    pub name: &'a str,
    pub units: Vec<UnitBlock<'a>>,
}

/// One unit's questions; its fields are named `u{index}.{question id}`, `u{index}.p` and
/// `u{index}.c`, and its inputs' ids start with `u{index}-`.
pub struct UnitBlock<'a> {
    pub index: usize,
    pub code: &'a str,
    pub name: &'a str,
    pub self_selected: bool,
    pub unit_error: Option<String>,
    pub questions: Vec<QuestionBlock<'a>>,
    pub problems: Vec<ProblemBox<'a>>,
    pub problems_error: Option<String>,
    pub comment: &'a str,
    pub comment_error: Option<String>,
}

pub struct QuestionBlock<'a> {
    /// The question's id in the template.
    pub id: &'a str,
    pub dimension: &'a str,
    pub label: &'a str,
    pub options: Vec<OptionBox<'a>>,
    pub error: Option<String>,
}

/// One choice of a question: a level's value, or `na` for 不了解.
pub struct OptionBox<'a> {
    pub value: OptionValue,
    pub label: &'a str,
    pub checked: bool,
    pub na: bool,
}

/// What a choice posts: a level's value or `na`.
#[derive(Clone, Copy)]
pub enum OptionValue {
    Level(u8),
    Na,
}

impl std::fmt::Display for OptionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionValue::Level(v) => write!(f, "{v}"),
            OptionValue::Na => f.write_str("na"),
        }
    }
}

pub struct ProblemBox<'a> {
    /// The problem's id in the template, which the box posts.
    pub id: &'a str,
    pub label: &'a str,
    pub description: &'a str,
    pub checked: bool,
}

pub struct UnitHit {
    pub code: String,
    pub name: String,
}

/// What the page needs besides the survey itself.
pub struct PageInput<'a> {
    pub token: &'a str,
    pub lang: Lang,
    /// The answers of a refused or interrupted submission, to show again.
    pub kept: Option<&'a RawSubmission>,
    pub errors: &'a [AnswerError],
    pub query: String,
    pub hits: Option<Vec<SurveyUnitRow>>,
}

/// The key under which the phone keeps its progress: derived from the token so the token itself
/// is never written to storage, and different from the hash the database stores.
pub fn progress_key(token: &str) -> String {
    hex::encode(&Sha256::digest(format!("qiping-progress:{token}").as_bytes())[..16])
}

/// The introduction's non-empty lines, one paragraph each, without a line that is exactly the short
/// promise of anonymity (`short`, as `survey_templates/standard.toml` has it): the promise right
/// below the introduction is the page form, which begins with the same words.
fn intro_paragraphs<'a>(intro: &'a str, short: &str) -> Vec<&'a str> {
    intro
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != short)
        .collect()
}

impl<'a> FormPage<'a> {
    pub fn build(view: &'a SurveyView, input: PageInput<'a>) -> Self {
        let lang = input.lang;
        let t = lang.texts();
        let template = &view.link.campaign.template;
        let kept: HashMap<&str, &'a RawRating> = input
            .kept
            .map(|s| {
                s.ratings
                    .iter()
                    .map(|r| (r.unit_code.as_str(), r))
                    .collect()
            })
            .unwrap_or_default();
        let errors = errors_by_unit(input.kept, input.errors);
        let mut departments: Vec<DepartmentBlock> = Vec::new();
        let mut order: Vec<&SurveyUnit> = view.units.iter().collect();
        order.sort_by(|a, b| a.department_code.cmp(&b.department_code));
        for (index, unit) in order.into_iter().enumerate() {
            let block = unit_block(
                template,
                lang,
                index,
                unit,
                !view.asked.contains(&unit.code),
                kept.get(unit.code.as_str()).copied(),
                errors.get(unit.code.as_str()),
            );
            match departments.last_mut() {
                Some(d) if d.name == unit.department => d.units.push(block),
                _ => departments.push(DepartmentBlock {
                    name: &unit.department,
                    units: vec![block],
                }),
            }
        }
        let suffix = if lang == Lang::En { "?lang=en" } else { "" };
        let form_error = input
            .errors
            .iter()
            .find(|e| e.field == "ratings")
            .map(|e| e.message.clone());
        FormPage {
            lang: lang.code(),
            t,
            title: lang.pick(template.title_zh(), template.title_en()),
            intro: intro_paragraphs(
                lang.pick(template.intro_zh(), template.intro_en()),
                lang.pick(anonymity::SHORT_ZH, anonymity::SHORT_EN),
            ),
            closes_on: view.link.closes_on.to_string(),
            weighted: view.link.campaign.weighted,
            action: format!("/s/{}{suffix}", input.token),
            problem_url: format!("/s/{}/problem", input.token),
            switch_url: format!("/s/{}?lang={}", input.token, t.switch_param),
            progress_key: progress_key(input.token),
            restore: input.kept.is_none(),
            errors: input.errors.len(),
            form_error,
            departments,
            problems_prompt: lang
                .pick(template.problems_prompt_zh(), template.problems_prompt_en()),
            comment_label: lang.pick(&template.comment().label_zh, &template.comment().label_en),
            comment_limit: t
                .comment_limit
                .replace("{}", &template.comment_max_chars().to_string()),
            comment_max: template.comment_max_chars(),
            comment_budget: t.comment_budget.replace(
                "{}",
                &crate::domain::answers::COMMENT_BUDGET_CHARS.to_string(),
            ),
            comment_budget_max: crate::domain::answers::COMMENT_BUDGET_CHARS,
            query: input.query,
            searched: input.hits.is_some(),
            hits: input
                .hits
                .unwrap_or_default()
                .into_iter()
                .filter(|h| !view.units.iter().any(|u| u.code == h.code))
                .map(|h| UnitHit {
                    code: h.code,
                    name: h.name,
                })
                .collect(),
        }
    }
}

/// Errors keyed by unit code, then by the rest of the path (`answers.efficiency`, `comment`, …).
fn errors_by_unit<'a>(
    kept: Option<&'a RawSubmission>,
    errors: &'a [AnswerError],
) -> HashMap<&'a str, HashMap<String, String>> {
    let mut map: HashMap<&str, HashMap<String, String>> = HashMap::new();
    let Some(kept) = kept else { return map };
    for e in errors {
        let Some(rest) = e.field.strip_prefix("ratings[") else {
            continue;
        };
        let Some((index, path)) = rest.split_once("].") else {
            continue;
        };
        let Some(rating) = index
            .parse::<usize>()
            .ok()
            .and_then(|i| kept.ratings.get(i))
        else {
            continue;
        };
        // `problems[2]` is shown beside the checklist as a whole.
        let path = path.split('[').next().unwrap_or(path).to_owned();
        map.entry(rating.unit_code.as_str())
            .or_default()
            .entry(path)
            .or_insert_with(|| e.message.clone());
    }
    map
}

fn unit_block<'a>(
    template: &'a SurveyTemplate,
    lang: Lang,
    index: usize,
    unit: &'a SurveyUnit,
    self_selected: bool,
    kept: Option<&'a RawRating>,
    errors: Option<&HashMap<String, String>>,
) -> UnitBlock<'a> {
    let error = |path: &str| errors.and_then(|e| e.get(path)).cloned();
    let questions = template
        .questions()
        .iter()
        .map(|q| {
            let chosen = kept.and_then(|k| k.answers.get(&q.id));
            let mut options: Vec<OptionBox<'a>> = template
                .levels()
                .iter()
                .map(|l| OptionBox {
                    value: OptionValue::Level(l.value),
                    label: lang.pick(&l.label_zh, &l.label_en),
                    checked: chosen == Some(&Some(i64::from(l.value))),
                    na: false,
                })
                .collect();
            if q.allows_na {
                options.push(OptionBox {
                    value: OptionValue::Na,
                    label: lang.pick(template.na_label_zh(), template.na_label_en()),
                    checked: chosen == Some(&None),
                    na: true,
                });
            }
            QuestionBlock {
                id: &q.id,
                dimension: lang.pick(&q.dimension_zh, &q.dimension_en),
                label: lang.pick(&q.label_zh, &q.label_en),
                options,
                error: error(&format!("answers.{}", q.id)),
            }
        })
        .collect();
    let problems = template
        .problems()
        .iter()
        .map(|p| ProblemBox {
            id: &p.id,
            label: lang.pick(&p.label_zh, &p.label_en),
            description: lang.pick(
                p.description_zh.as_deref().unwrap_or_default(),
                p.description_en.as_deref().unwrap_or_default(),
            ),
            checked: kept.is_some_and(|k| k.problems.contains(&p.id)),
        })
        .collect();
    UnitBlock {
        index,
        code: &unit.code,
        name: &unit.name,
        self_selected,
        unit_error: error("unit_code"),
        questions,
        problems,
        problems_error: error("problems"),
        comment: kept.and_then(|k| k.comment.as_deref()).unwrap_or_default(),
        comment_error: error("comment"),
    }
}

/// `survey/status.html`: thank-you, used, unknown or closed, and too many requests.
#[derive(Template)]
#[template(path = "survey/status.html")]
pub struct StatusPage {
    pub lang: &'static str,
    pub title: &'static str,
    pub body: &'static str,
    pub submitted: bool,
}

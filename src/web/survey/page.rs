//! The survey page's view model: the questionnaire, the units grouped by department, and — after
//! a refused submission — the answers kept and each error beside its field.

use std::collections::HashMap;

use askama::Template;
use sha2::{Digest, Sha256};

use super::texts::{Lang, Texts};
use crate::db::survey_units::SurveyUnitRow;
use crate::domain::{AnswerError, RawRating, RawSubmission, SurveyTemplate, anonymity};
use crate::service::survey::{SurveyUnit, SurveyView};

/// `survey/form.html`.
#[derive(Template)]
#[template(path = "survey/form.html")]
pub struct FormPage {
    pub lang: &'static str,
    pub t: &'static Texts,
    pub title: String,
    pub intro: Vec<String>,
    pub closes_on: String,
    pub action: String,
    /// The separate named problem form (`/s/{token}/problem`), opened in a new tab.
    pub problem_url: String,
    pub switch_url: String,
    pub progress_key: String,
    pub restore: bool,
    pub errors: usize,
    pub form_error: Option<String>,
    pub departments: Vec<DepartmentBlock>,
    pub problems_prompt: String,
    pub comment_label: String,
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

pub struct DepartmentBlock {
    pub name: String,
    pub units: Vec<UnitBlock>,
}

pub struct UnitBlock {
    pub index: usize,
    pub code: String,
    pub name: String,
    pub self_selected: bool,
    pub unit_error: Option<String>,
    pub questions: Vec<QuestionBlock>,
    pub problems: Vec<ProblemBox>,
    pub problems_error: Option<String>,
    pub comment: String,
    pub comment_error: Option<String>,
}

pub struct QuestionBlock {
    pub name: String,
    pub dimension: String,
    pub label: String,
    pub options: Vec<OptionBox>,
    pub error: Option<String>,
}

pub struct OptionBox {
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
    pub na: bool,
}

pub struct ProblemBox {
    pub id: String,
    pub value: String,
    pub label: String,
    pub description: String,
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
fn intro_paragraphs(intro: &str, short: &str) -> Vec<String> {
    intro
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != short)
        .map(str::to_owned)
        .collect()
}

impl FormPage {
    pub fn build(view: &SurveyView, input: PageInput<'_>) -> Self {
        let lang = input.lang;
        let t = lang.texts();
        let template = &view.link.template;
        let kept: HashMap<&str, &RawRating> = input
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
                    name: unit.department.clone(),
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
            title: lang
                .pick(template.title_zh(), template.title_en())
                .to_owned(),
            intro: intro_paragraphs(
                lang.pick(template.intro_zh(), template.intro_en()),
                lang.pick(anonymity::SHORT_ZH, anonymity::SHORT_EN),
            ),
            closes_on: view.link.campaign.closes_on.to_string(),
            action: format!("/s/{}{suffix}", input.token),
            problem_url: format!("/s/{}/problem", input.token),
            switch_url: format!("/s/{}?lang={}", input.token, t.switch_param),
            progress_key: progress_key(input.token),
            restore: input.kept.is_none(),
            errors: input.errors.len(),
            form_error,
            departments,
            problems_prompt: lang
                .pick(template.problems_prompt_zh(), template.problems_prompt_en())
                .to_owned(),
            comment_label: lang
                .pick(&template.comment().label_zh, &template.comment().label_en)
                .to_owned(),
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

fn unit_block(
    template: &SurveyTemplate,
    lang: Lang,
    index: usize,
    unit: &SurveyUnit,
    self_selected: bool,
    kept: Option<&RawRating>,
    errors: Option<&HashMap<String, String>>,
) -> UnitBlock {
    let error = |path: &str| errors.and_then(|e| e.get(path)).cloned();
    let questions = template
        .questions()
        .iter()
        .map(|q| {
            let chosen = kept.and_then(|k| k.answers.get(&q.id));
            let mut options: Vec<OptionBox> = template
                .levels()
                .iter()
                .map(|l| OptionBox {
                    id: format!("u{index}-{}-{}", q.id, l.value),
                    value: l.value.to_string(),
                    label: lang.pick(&l.label_zh, &l.label_en).to_owned(),
                    checked: chosen == Some(&Some(i64::from(l.value))),
                    na: false,
                })
                .collect();
            if q.allows_na {
                options.push(OptionBox {
                    id: format!("u{index}-{}-na", q.id),
                    value: "na".into(),
                    label: lang
                        .pick(template.na_label_zh(), template.na_label_en())
                        .to_owned(),
                    checked: chosen == Some(&None),
                    na: true,
                });
            }
            QuestionBlock {
                name: format!("u{index}.{}", q.id),
                dimension: lang.pick(&q.dimension_zh, &q.dimension_en).to_owned(),
                label: lang.pick(&q.label_zh, &q.label_en).to_owned(),
                options,
                error: error(&format!("answers.{}", q.id)),
            }
        })
        .collect();
    let problems = template
        .problems()
        .iter()
        .map(|p| ProblemBox {
            id: format!("u{index}-p-{}", p.id),
            value: p.id.clone(),
            label: lang.pick(&p.label_zh, &p.label_en).to_owned(),
            description: lang
                .pick(
                    p.description_zh.as_deref().unwrap_or_default(),
                    p.description_en.as_deref().unwrap_or_default(),
                )
                .to_owned(),
            checked: kept.is_some_and(|k| k.problems.contains(&p.id)),
        })
        .collect();
    UnitBlock {
        index,
        code: unit.code.clone(),
        name: unit.name.clone(),
        self_selected,
        unit_error: error("unit_code"),
        questions,
        problems,
        problems_error: error("problems"),
        comment: kept.and_then(|k| k.comment.clone()).unwrap_or_default(),
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

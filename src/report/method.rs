//! `method.html`: 「评议结果是怎样算出来的」, the method in plain Chinese for an enterprise owner or the
//! head of an office (docs/method.md §12). It states the figures of one publication — the
//! thresholds its aggregation ran with, the questionnaire's points, whether weighting was on —
//! never the current configuration's, so a reader of an old publication reads the rules that
//! made it. Self-contained like the bulletin (inline CSS, no external assets); the public site
//! serves the same bytes, its stylesheet allowed by hash ([`STYLE`]).

use askama::Template;

use super::model::PublicResults;
use crate::domain::SurveyTemplate;
use crate::stats::{RankBy, Settings, method_name_zh};

/// The page's stylesheet, inlined in `<style>`; shared with the bulletin.
pub const STYLE: &str = include_str!("templates/document.css");

/// One answer level as the page lists it: 非常满意, 100 分.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelPoints {
    pub label: String,
    pub points: f64,
}

/// What the method page says about one publication, beside its results.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodFacts {
    /// The settings the publication's aggregation ran with.
    pub settings: Settings,
    /// Whether respondents were raked to the invited population.
    pub weighted: bool,
    /// The five levels, 5 (best) first.
    pub levels: Vec<LevelPoints>,
    /// 「不了解/未接触」 as the questionnaire words it.
    pub na_label: String,
    /// The dimension of the overall question (满意率 is computed from it).
    pub overall: String,
    /// Each question's dimension and weight, in the questionnaire's order.
    pub questions: Vec<(String, f64)>,
}

impl MethodFacts {
    /// The facts of a campaign asked with `template` and aggregated with `settings`.
    pub fn new(template: &SurveyTemplate, settings: &Settings, weighted: bool) -> Self {
        MethodFacts {
            settings: settings.clone(),
            weighted,
            levels: template
                .levels()
                .iter()
                .map(|l| LevelPoints {
                    label: l.label_zh.clone(),
                    points: l.points,
                })
                .collect(),
            na_label: template.na_label_zh().to_owned(),
            overall: template.overall_question().dimension_zh.clone(),
            questions: template
                .questions()
                .iter()
                .map(|q| (q.dimension_zh.clone(), q.weight))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "method.html")]
struct MethodPage<'a> {
    style: &'static str,
    period: &'a str,
    version: i32,
    published_at: String,
    method_version: &'a str,
    method_name: Option<&'static str>,
    seed: u64,
    levels: Vec<(String, String)>,
    na_label: &'a str,
    overall: &'a str,
    /// 「满意」或「非常满意」: the labels of levels 4 and 5.
    satisfied: String,
    /// `None` when every question weighs the same; else "服务态度 1、办事效率 2 …".
    weights: Option<String>,
    self_selected: bool,
    weighted: bool,
    min_published_n: usize,
    min_published_n_eff: String,
    min_eligible_n: usize,
    below_eligible: usize,
    min_units_own_tau2: usize,
    by_shrunken: bool,
    draws: usize,
    bottom: String,
    bottom_n: usize,
    consecutive: String,
    flag_min_units: usize,
    credible_percent: String,
}

/// The page's HTML. Every text passes through askama's escaping; only [`STYLE`] is inserted as is.
pub fn render(results: &PublicResults, facts: &MethodFacts) -> Result<String, askama::Error> {
    let s = &facts.settings;
    let first_weight = facts.questions.first().map(|q| q.1);
    let equal = facts.questions.iter().all(|q| Some(q.1) == first_weight);
    MethodPage {
        style: STYLE,
        period: &results.period,
        version: results.version,
        published_at: results.published_on_text(),
        method_version: &results.method_version,
        method_name: method_name_zh(&results.method_version),
        seed: results.seed,
        levels: facts
            .levels
            .iter()
            .map(|l| (l.label.clone(), number(l.points)))
            .collect(),
        na_label: &facts.na_label,
        overall: &facts.overall,
        satisfied: match facts.levels.as_slice() {
            [five, four, ..] => format!("「{}」或「{}」", four.label, five.label),
            _ => "「满意」或「非常满意」".to_owned(),
        },
        weights: (!equal).then(|| {
            facts
                .questions
                .iter()
                .map(|(d, w)| format!("{d} {}", number(*w)))
                .collect::<Vec<_>>()
                .join("、")
        }),
        self_selected: s.include_self_selected,
        weighted: facts.weighted,
        min_published_n: s.min_published_n,
        min_published_n_eff: number(s.min_published_n_eff),
        min_eligible_n: s.min_eligible_n,
        below_eligible: s.min_eligible_n.saturating_sub(1),
        min_units_own_tau2: s.min_units_own_tau2,
        by_shrunken: s.rank_by == RankBy::Shrunken,
        draws: s.draws,
        bottom: format!("后{}位", zh_count(s.bottom_n)),
        bottom_n: s.bottom_n,
        consecutive: zh_count(s.consecutive),
        flag_min_units: 2 * s.bottom_n,
        credible_percent: percent(s.credible_probability),
    }
    .render()
}

/// A probability as a percentage without needless decimals: 0.8 → "80".
pub fn percent(p: f64) -> String {
    number(p * 100.0)
}

/// A figure without needless decimals: 100, 0.5, 12.25.
fn number(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// 一 … 十 for the small counts the plan writes in words (「后五位」「连续两次」), digits beyond.
fn zh_count(n: usize) -> String {
    const WORDS: [&str; 10] = ["一", "两", "三", "四", "五", "六", "七", "八", "九", "十"];
    match n {
        1..=10 => WORDS[n - 1].to_owned(),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_written_in_words_as_the_plan_writes_them() {
        assert_eq!(zh_count(5), "五");
        assert_eq!(zh_count(2), "两");
        assert_eq!(zh_count(12), "12");
        assert_eq!(number(100.0), "100");
        assert_eq!(number(80.0), "80");
        assert_eq!(number(0.5), "0.5");
    }
}

//! What the platform promises an enterprise about its anonymity, in one place: every page, letter
//! and questionnaire that speaks of it shows one of these texts, never a copy of its own.
//!
//! The texts say what the sealed ballots guarantee and no more (README, "What anonymity means
//! here"):
//!
//! - **G1**, once the campaign has closed and every copy of its ballot key is destroyed: nobody —
//!   administrators holding the whole database, the backups, the configuration and the logs
//!   included — can tell which enterprise gave which rating, comment or problem mark, or tell that
//!   two ratings came from one enterprise. A unit rated by fewer than [`MIN_CROWD`] enterprises
//!   keeps only the count, not the answers. Not covered: what an enterprise writes about itself in
//!   a comment, and the named form (实名反映), which names it.
//! - **G2**, while the campaign is open: someone with the database learns only how many answers
//!   arrived and when, and, with the server's configuration, which enterprises have answered —
//!   not what they answered; opening the answers needs the ballot key, which the 营商办 keeps off
//!   the server.
//!
//! Two forms per language: the short one for letters, the questionnaire's introduction and the
//! public rankings page; the page form, the short one followed by the smallest-crowd rule and the
//! named form's exception, for the survey page and the named form. The page form is built from the
//! short one, so it always contains it word for word.
//!
//! [`MIN_CROWD`]: super::MIN_CROWD

/// The short form in Chinese, one literal so the page form can be built on it with `concat!`.
macro_rules! short_zh {
    () => {
        "答卷在评议期间加密封存,打开答卷的密钥由营商环境办公室离线保管,不放在服务器上;这期间,\
         能接触服务器的人最多只能看出收到了多少份答卷、何时收到、哪些企业已经提交,看不到答卷内容。\
         评议截止后,全部答卷统一开启,各项评价打乱顺序保存,不再与企业、评议链接或提交时间关联,\
         随后销毁密钥的所有副本。此后谁也无法查出某项评分、意见或勾选的问题出自哪家企业,\
         也看不出哪几项评价来自同一家企业,即使拿到全部数据库、备份、配置和日志也不行;\
         企业自己在意见中写明的身份信息除外。"
    };
}

/// The short form in English.
macro_rules! short_en {
    () => {
        "While the survey is open, answers are sealed (encrypted), and the key that opens them is \
         kept offline by the business-environment office, not on the server: anyone with access to \
         the server can see at most how many answers arrived, when, and which companies have \
         answered, not what they said. When the survey closes, all answers are opened together and \
         the ratings are stored in shuffled order, with no tie to the company, the survey link or \
         the time of submission; then every copy of the key is destroyed. From then on no one can \
         tell which company gave a rating, comment or problem mark, or which ratings came from the \
         same company, not even with the whole database, backups, configuration and logs, except \
         for what a company writes about itself in a comment."
    };
}

/// The promise in letters (the campaign mail's footer, the problem confirmation), the
/// questionnaire's introduction (`survey_templates/standard.toml`, on a line of its own) and the
/// public rankings page: G2, then G1 with its exception, in three sentences.
pub const SHORT_ZH: &str = short_zh!();

/// [`SHORT_ZH`] in English (`?lang=en`, the introduction's `intro_en`).
pub const SHORT_EN: &str = short_en!();

/// The promise on the survey page and the named form: [`SHORT_ZH`], then that a unit rated by
/// fewer than five enterprises keeps only the count, and that the named form is not anonymous.
pub const PAGE_ZH: &str = concat!(
    short_zh!(),
    "评价某个单位的企业不足 5 家时,只记下家数,不保存这些评价。",
    "实名反映的问题会写明贵企业,不属于匿名评议的内容。"
);

/// [`PAGE_ZH`] in English.
pub const PAGE_EN: &str = concat!(
    short_en!(),
    " When fewer than 5 companies rate a unit, only their number is kept, not their answers.",
    " A problem reported by name carries the name of your company and is not part of the anonymous survey."
);

/// Said beside the promise when the campaign is weighted (issue 39): what the stored weight leaves.
pub const WEIGHTED_ZH: &str = "本期评议按企业规模、行业、区县加权:每项评价只带一个权重,不保存企业的规模、行业和区县;同一个权重至少由评价该单位的 5 家企业共有,不会把某一家企业单独标出来。";

/// [`WEIGHTED_ZH`] in English.
pub const WEIGHTED_EN: &str = "This survey is weighted by company size, industry and district: each rating carries only a weight, never your company's size, industry or district, and every weight is shared by at least 5 companies rating the same unit, so it singles out no company.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MIN_CROWD;

    #[test]
    fn the_page_form_is_the_short_form_and_more() {
        assert!(PAGE_ZH.starts_with(SHORT_ZH) && PAGE_ZH.len() > SHORT_ZH.len());
        assert!(PAGE_EN.starts_with(SHORT_EN) && PAGE_EN.len() > SHORT_EN.len());
    }

    #[test]
    fn the_smallest_crowd_is_the_one_the_close_applies() {
        assert!(PAGE_ZH.contains(&format!("不足 {MIN_CROWD} 家")));
        assert!(PAGE_EN.contains(&format!("fewer than {MIN_CROWD} companies")));
    }

    #[test]
    fn the_short_form_stays_short_and_plain() {
        // Three sentences, no line break (a template line and a mail paragraph each), no markup.
        assert_eq!(SHORT_ZH.matches('。').count(), 3, "{SHORT_ZH}");
        for text in [SHORT_ZH, SHORT_EN, PAGE_ZH, PAGE_EN] {
            assert!(!text.contains('\n') && !text.contains("  "), "{text}");
            // Nothing HTML escapes: a page shows the text byte for byte.
            assert!(!text.contains(['<', '>', '&', '"', '\'']), "{text}");
        }
        assert!(!SHORT_ZH.is_ascii() && !SHORT_ZH.contains(|c: char| c.is_ascii_alphabetic()));
    }
}

//! The survey page's own words, zh-CN first; the questionnaire's words come from its template,
//! the promise of anonymity from [`crate::domain::anonymity`].

use crate::domain::anonymity;

/// Which language a page is shown in: `?lang=en` switches to English, anything else is Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// From the `lang` query parameter.
    pub fn from_param(value: Option<&str>) -> Self {
        match value {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The `lang` attribute of the page.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Picks the text of this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

/// Every fixed string of the survey pages.
#[derive(Debug)]
pub struct Texts {
    pub switch_label: &'static str,
    pub switch_param: &'static str,
    pub deadline: &'static str,
    /// The promise of anonymity: [`anonymity::PAGE_ZH`] or [`anonymity::PAGE_EN`].
    pub promise: &'static str,
    /// What a weighted campaign's stored weight leaves: [`anonymity::WEIGHTED_ZH`] or
    /// [`anonymity::WEIGHTED_EN`].
    pub weighted: &'static str,
    pub progress_note: &'static str,
    pub errors_summary: &'static str,
    pub self_selected: &'static str,
    pub comment_limit: &'static str,
    pub comment_budget: &'static str,
    pub add_heading: &'static str,
    pub add_hint: &'static str,
    pub search_label: &'static str,
    pub search_button: &'static str,
    pub add_button: &'static str,
    pub no_hits: &'static str,
    pub submit: &'static str,
    pub submit_note: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub used_title: &'static str,
    pub used_body: &'static str,
    pub invalid_title: &'static str,
    pub invalid_body: &'static str,
    pub busy_title: &'static str,
    pub busy_body: &'static str,
    /// The link to the separate, named problem form (实名反映), beside each unit.
    pub named_problem: &'static str,
}

const ZH: Texts = Texts {
    switch_label: "English",
    switch_param: "en",
    deadline: "截止日期",
    promise: anonymity::PAGE_ZH,
    weighted: anonymity::WEIGHTED_ZH,
    progress_note: "填写进度只保存在您本机的浏览器中,不会上传;提交后即清除。",
    errors_summary: "有些题目需要补充或修改,请查看下方红色提示。已填写的内容都已保留。",
    self_selected: "您添加的单位",
    comment_limit: "最多 {} 字",
    comment_budget: "所有单位的意见合计最多 {} 字",
    add_heading: "添加打过交道的其他单位",
    add_hint: "如果贵企业在本评议期内还与其他单位打过交道,可以搜索并添加,已填写的内容不会丢失。",
    search_label: "单位名称或编码",
    search_button: "搜索",
    add_button: "添加",
    no_hits: "没有找到匹配的单位。",
    submit: "提交答卷",
    submit_note: "提交后不能修改。",
    thanks_title: "提交成功,感谢您的参与!",
    thanks_body: "您的答卷已加密封存,评议截止时与其他答卷统一开启。评议结果将在评议结束后向社会公布。本页面可以关闭。",
    used_title: "此链接已提交过答卷",
    used_body: "每个评议链接只能提交一次,贵企业的答卷已经保存,无需再次填写。如有疑问,请联系发出邀请的营商环境办公室。",
    invalid_title: "链接无效或评议已结束",
    invalid_body: "此链接无法打开问卷:可能链接不完整,或本次评议已经结束。请检查邮件中的链接是否完整复制;如有疑问,请联系发出邀请的营商环境办公室。",
    busy_title: "请求过于频繁",
    busy_body: "请稍候一分钟后再刷新页面。",
    named_problem: "希望问题得到办理和答复?可另行实名反映(在新页面单独提交,与本问卷的匿名评分无关联)",
};

const EN: Texts = Texts {
    switch_label: "中文",
    switch_param: "zh",
    deadline: "Deadline",
    promise: anonymity::PAGE_EN,
    weighted: anonymity::WEIGHTED_EN,
    progress_note: "Your progress is saved only in this phone's browser, never uploaded, and cleared after you submit.",
    errors_summary: "Some questions need an answer or a correction; see the red notes below. Everything you entered has been kept.",
    self_selected: "Added by you",
    comment_limit: "At most {} characters",
    comment_budget: "All comments together: at most {} characters",
    add_heading: "Add another unit you dealt with",
    add_hint: "If your company dealt with other units during this period, search and add them; your answers so far are kept.",
    search_label: "Unit name or code",
    search_button: "Search",
    add_button: "Add",
    no_hits: "No matching unit.",
    submit: "Submit",
    submit_note: "Answers cannot be changed after submission.",
    thanks_title: "Thank you — your answers were submitted",
    thanks_body: "Your answers were sealed (encrypted); they are opened together with all others when the survey closes. The results are published after the survey closes. You may close this page.",
    used_title: "This link has already been used",
    used_body: "Each survey link can be used once; your company's answers are already stored. For questions, contact the business-environment office that invited you.",
    invalid_title: "The link is not valid or the survey has closed",
    invalid_body: "This link does not open a survey: it may be incomplete, or the survey has ended. Check that the whole link from the email was copied; for questions, contact the business-environment office that invited you.",
    busy_title: "Too many requests",
    busy_body: "Please wait a minute, then reload the page.",
    named_problem: "Want a problem handled and answered? Report it by name on a separate page (submitted on its own, never linked to your anonymous ratings)",
};

//! The enterprise's two public pages. `/s/{token}/problem`: the named form (实名反映) beside the
//! anonymous survey — its own page and its own POST, with its own empty fields, so nothing of the
//! anonymous answers reaches it. `/p/{token}`: the one-time link that asks whether the unit's
//! answer resolved the problem. Both are rate-limited like the survey and never cached.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::resolved;
use crate::db::now;
use crate::domain::time;
use crate::service::ServiceError;
use crate::service::problems::{
    self, SurveyProblem, SurveyProblemError, Workflow, survey_link_enterprise, units_for_named_form,
};
use crate::web::AppState;
use crate::web::error::WebError;

#[derive(Template)]
#[template(path = "problems/named_form.html")]
struct NamedForm {
    action: String,
    enterprise: String,
    units: Vec<(String, String)>,
    chosen: String,
    form: SurveyProblem,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "problems/public_status.html")]
struct Status<'a> {
    title: &'a str,
    body: String,
}

#[derive(Template)]
#[template(path = "problems/confirm.html")]
struct ConfirmPage {
    action: String,
    unit: String,
    description: String,
    answer: String,
    due: String,
    error: Option<String>,
}

/// `?unit=CODE`: the unit the survey page linked from.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnitQuery {
    pub unit: Option<String>,
}

/// The named form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NamedFields {
    pub unit: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub description: String,
}

/// The confirmation form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VerdictFields {
    pub resolved: String,
    pub note: String,
}

fn page(code: StatusCode, html: String) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::build(code)
        .content_type("text/html; charset=utf-8")
        // The page carries a one-time token: no cache may keep it.
        .insert_header(("Cache-Control", "no-store"))
        .body(html))
}

fn status(code: StatusCode, title: &str, body: String) -> Result<HttpResponse, WebError> {
    page(
        code,
        Status { title, body }
            .render()
            .map_err(WebError::internal)?,
    )
}

fn invalid_link() -> Result<HttpResponse, WebError> {
    status(
        StatusCode::NOT_FOUND,
        "链接无效或已过期",
        "这条链接无法使用:可能不完整、已经使用过,或评议已经结束。如需反映问题,请回复邀请邮件联系营商环境办公室。"
            .into(),
    )
}

fn limited(state: &AppState, req: &HttpRequest) -> bool {
    !state.survey.limiter.allow(state.client_ip(req))
}

fn busy() -> Result<HttpResponse, WebError> {
    Err(WebError::TooManyRequests)
}

async fn named_form(
    state: &AppState,
    token: String,
    form: SurveyProblem,
    requested: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let t = token.clone();
    let found = state
        .with_conn(move |conn| {
            let linked = match survey_link_enterprise(conn, &t, time::local_day(now())) {
                Ok(l) => l,
                Err(SurveyProblemError::Link) => return Ok(None),
                Err(SurveyProblemError::Service(e)) => return Err(e.into()),
            };
            let units = units_for_named_form(conn, &linked, requested.as_deref())?;
            Ok(Some((linked.enterprise_name, units)))
        })
        .await?;
    let Some((enterprise, units)) = found else {
        return invalid_link();
    };
    let code = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let chosen = form.unit_code.clone();
    let html = NamedForm {
        action: format!("/s/{token}/problem"),
        enterprise,
        units,
        chosen,
        form,
        error,
    }
    .render()
    .map_err(WebError::internal)?;
    page(code, html)
}

/// `GET /s/{token}/problem`.
pub async fn show_named_form(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<UnitQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    if limited(&state, &req) {
        return busy();
    }
    let requested = query.into_inner().unit;
    let form = SurveyProblem {
        unit_code: requested.clone().unwrap_or_default(),
        ..SurveyProblem::default()
    };
    named_form(&state, token.into_inner(), form, requested, None).await
}

/// `POST /s/{token}/problem`: a separate submission, stored in its own transaction.
pub async fn submit_named_form(
    state: web::Data<AppState>,
    token: web::Path<String>,
    fields: web::Form<NamedFields>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    if limited(&state, &req) {
        return busy();
    }
    let token = token.into_inner();
    let f = fields.into_inner();
    let form = SurveyProblem {
        unit_code: f.unit,
        reporter_name: f.name,
        reporter_phone: f.phone,
        reporter_email: f.email,
        description: f.description,
    };
    let (t, submitted) = (token.clone(), form.clone());
    let outcome = state
        .with_conn(move |conn| Ok(problems::register_from_survey(conn, &t, &submitted, now())))
        .await?;
    match outcome {
        Ok(id) => status(
            StatusCode::OK,
            "已收到您反映的问题",
            format!(
                "问题编号 {id}。营商环境办公室将交责任单位限期办理,办理后会请您确认是否解决。\
                 这份实名反映与您的匿名评议问卷分开保存,两者之间不记录任何关联。"
            ),
        ),
        Err(SurveyProblemError::Link) => invalid_link(),
        Err(SurveyProblemError::Service(ServiceError::Invalid(message))) => {
            let requested = Some(form.unit_code.clone());
            named_form(&state, token, form, requested, Some(message)).await
        }
        Err(SurveyProblemError::Service(e)) => Err(e.into()),
    }
}

/// `GET /p/{token}`: what the unit answered, and the question whether it is resolved.
pub async fn show_confirmation(
    state: web::Data<AppState>,
    token: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    if limited(&state, &req) {
        return busy();
    }
    let token = token.into_inner();
    confirmation_page(&state, token, None).await
}

async fn confirmation_page(
    state: &AppState,
    token: String,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let t = token.clone();
    let found = state
        .with_conn(move |conn| {
            let Some(row) = problems::by_link(conn, &t)? else {
                return Ok(None);
            };
            let unit = match row.unit_id {
                Some(u) => crate::db::problems::unit_of(conn, u)?.map(|(_, n)| n),
                None => None,
            };
            Ok(Some((row, unit.unwrap_or_default())))
        })
        .await?;
    let Some((row, unit)) = found else {
        return invalid_link();
    };
    let code = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let html = ConfirmPage {
        action: format!("/p/{token}"),
        unit,
        description: row.description,
        answer: row.answer.unwrap_or_default(),
        due: row.confirm_due.map(|d| d.to_string()).unwrap_or_default(),
        error,
    }
    .render()
    .map_err(WebError::internal)?;
    page(code, html)
}

/// `POST /p/{token}`: the verdict; the link works once.
pub async fn submit_confirmation(
    state: web::Data<AppState>,
    token: web::Path<String>,
    fields: web::Form<VerdictFields>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    if limited(&state, &req) {
        return busy();
    }
    let token = token.into_inner();
    let f = fields.into_inner();
    let is_resolved = match resolved(&f.resolved) {
        Ok(r) => r,
        Err(WebError::BadRequest(m)) => return confirmation_page(&state, token, Some(m)).await,
        Err(e) => return Err(e),
    };
    let config = state.config.clone();
    let t = token.clone();
    let outcome = state
        .with_conn(move |conn| {
            let wf = Workflow::of(&config);
            Ok(problems::verdict_by_link(
                conn,
                &wf,
                &t,
                is_resolved,
                Some(&f.note),
                now(),
            ))
        })
        .await?;
    match outcome {
        Ok(_) if is_resolved => status(
            StatusCode::OK,
            "感谢您的确认",
            "问题已办结。感谢您对优化营商环境工作的支持。".into(),
        ),
        Ok(_) => status(
            StatusCode::OK,
            "已记录:问题尚未解决",
            "问题将转入下一轮督办,由督办部门给责任单位新的期限;仍未解决的将移交纪委监委问责。"
                .into(),
        ),
        Err(ServiceError::NotFound(_)) => invalid_link(),
        Err(ServiceError::Invalid(m)) => confirmation_page(&state, token, Some(m)).await,
        Err(e) => Err(e.into()),
    }
}

//! The survey page, `GET`/`POST /s/{token}`: server-rendered, works without JavaScript.
//! Handlers only translate between HTTP and [`crate::service::survey`] / [`crate::service::response`].

mod form;
mod page;
mod texts;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::AppState;
use super::error::WebError;
use crate::domain::RawSubmission;
use crate::service::response::{self, SubmitError};
use crate::service::survey::{self, LinkError, SurveyView};
use form::{Intent, PostedForm};
use page::{FormPage, PageInput, StatusPage};
use texts::Lang;

/// Most units a search lists.
const SEARCH_LIMIT: i64 = 20;

type Query = web::Query<Vec<(String, String)>>;

fn lang_of(query: &Query) -> Lang {
    Lang::from_param(
        query
            .iter()
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.as_str()),
    )
}

/// `GET /s/{token}`: the questionnaire; records the first opening.
pub async fn show(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: Query,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let lang = lang_of(&query);
    if !state.survey.limiter.allow(state.client_ip(&req)) {
        return status_page(lang, StatusCode::TOO_MANY_REQUESTS, Status::Busy);
    }
    let token = token.into_inner();
    let cache = state.survey.templates.clone();
    let views = state.survey.views.clone();
    let t = token.clone();
    let outcome = state
        .with_conn(move |conn| Ok(survey::view(conn, &cache, &t, &[], Some(&views))))
        .await?;
    match outcome {
        Ok(view) => form_page(&view, &token, lang, None, &[], String::new(), None),
        Err(e) => link_error_page(lang, e),
    }
}

/// `POST /s/{token}`: submit, or search for / add a unit while keeping the answers so far.
pub async fn submit(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: Query,
    body: web::Bytes,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let lang = lang_of(&query);
    if !state.survey.limiter.allow(state.client_ip(&req)) {
        return status_page(lang, StatusCode::TOO_MANY_REQUESTS, Status::Busy);
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| WebError::BadRequest("表单格式有误".into()))?;
    let posted = PostedForm::parse(&pairs);
    let token = token.into_inner();
    let cache = state.survey.templates.clone();
    if posted.intent != Intent::Submit {
        return refill(&state, token, lang, posted, Vec::new()).await;
    }
    let (t, submission) = (token.clone(), posted.submission.clone());
    let prepared = state
        .with_conn(move |conn| Ok(response::prepare(conn, &cache, &t, &submission)))
        .await?;
    let outcome = match prepared {
        Ok(prepared) => store(&state, prepared).await?,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((
                "Location",
                if lang == Lang::En {
                    "/s/thanks?lang=en"
                } else {
                    "/s/thanks"
                },
            ))
            .finish()),
        Err(SubmitError::Invalid(errors)) => refill(&state, token, lang, posted, errors).await,
        Err(e) => link_error_page(lang, e),
    }
}

/// Stores a prepared submission through the group-commit writer.
pub(super) async fn store(
    state: &AppState,
    prepared: response::Prepared,
) -> Result<Result<(), SubmitError>, WebError> {
    let writer = state.survey.writer.clone();
    Ok(writer.store(prepared).await)
}

/// The form again with the answers kept, the errors beside their fields, and search results.
async fn refill(
    state: &AppState,
    token: String,
    lang: Lang,
    posted: PostedForm,
    errors: Vec<crate::domain::AnswerError>,
) -> Result<HttpResponse, WebError> {
    let cache = state.survey.templates.clone();
    let codes = posted.unit_codes();
    let search =
        (posted.intent == Intent::Search && !posted.query.is_empty()).then(|| posted.query.clone());
    let t = token.clone();
    let outcome = state
        .with_conn(move |conn| {
            let view = match survey::view(conn, &cache, &t, &codes, None) {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            let hits = match search {
                Some(q) => Some(crate::db::survey_units::search_units(
                    conn,
                    &q,
                    SEARCH_LIMIT,
                )?),
                None => None,
            };
            Ok(Ok((view, hits)))
        })
        .await?;
    let (view, hits) = match outcome {
        Ok(found) => found,
        Err(e) => return link_error_page(lang, e),
    };
    let hits = match posted.intent {
        Intent::Search => Some(hits.unwrap_or_default()),
        _ => None,
    };
    let mut response = form_page(
        &view,
        &token,
        lang,
        Some(&posted.submission),
        &errors,
        posted.query.clone(),
        hits,
    )?;
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

fn form_page(
    view: &SurveyView,
    token: &str,
    lang: Lang,
    kept: Option<&RawSubmission>,
    errors: &[crate::domain::AnswerError],
    query: String,
    hits: Option<Vec<crate::db::survey_units::SurveyUnitRow>>,
) -> Result<HttpResponse, WebError> {
    let page = FormPage::build(
        view,
        PageInput {
            token,
            lang,
            kept,
            errors,
            query,
            hits,
        },
    );
    html(StatusCode::OK, page.render().map_err(WebError::internal)?)
}

/// `GET /s/thanks`: shown after a stored submission; its script clears the saved progress.
pub async fn thanks(query: Query) -> Result<HttpResponse, WebError> {
    status_page(lang_of(&query), StatusCode::OK, Status::Thanks)
}

enum Status {
    Thanks,
    Used,
    Invalid,
    Busy,
}

fn link_error_page(lang: Lang, e: LinkError) -> Result<HttpResponse, WebError> {
    match e {
        // An unknown and an expired link read the same: the page tells nothing about the link.
        LinkError::Unknown => status_page(lang, StatusCode::NOT_FOUND, Status::Invalid),
        LinkError::Closed => status_page(lang, StatusCode::GONE, Status::Invalid),
        LinkError::Used => status_page(lang, StatusCode::CONFLICT, Status::Used),
        LinkError::Invalid(_) => Err(WebError::BadRequest("提交的内容有误".into())),
        LinkError::Db(db) => Err(db.into()),
        LinkError::Unavailable(reason) => Err(WebError::unavailable(reason, "答卷未保存")),
        LinkError::Internal(m) => Err(WebError::internal(m)),
    }
}

fn status_page(lang: Lang, code: StatusCode, status: Status) -> Result<HttpResponse, WebError> {
    let t = lang.texts();
    let (title, body) = match status {
        Status::Thanks => (t.thanks_title, t.thanks_body),
        Status::Used => (t.used_title, t.used_body),
        Status::Invalid => (t.invalid_title, t.invalid_body),
        Status::Busy => (t.busy_title, t.busy_body),
    };
    let page = StatusPage {
        lang: lang.code(),
        title,
        body,
        submitted: matches!(status, Status::Thanks),
    };
    let mut response = html(code, page.render().map_err(WebError::internal)?)?;
    if code == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from_static("60"),
        );
    }
    Ok(response)
}

fn html(code: StatusCode, body: String) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::build(code)
        .content_type("text/html; charset=utf-8")
        // The page carries the link's token: no cache may keep it.
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

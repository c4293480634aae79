//! `/admin/problems…`: the 营商办 sees every problem, overdue first; registers problems from other
//! channels; assigns them (交办); records an enterprise's verdict given by phone. Every change is
//! audited by the service.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{ListQuery, ProblemForm, resolved, see_other};
use crate::db::now;
use crate::domain::problem::Channel;
use crate::service::problems::views::{self, ProblemView, StepView};
use crate::service::problems::{self, NewProblem, Workflow};
use crate::web::AppState;
use crate::web::auth::{Admin, RequireRole, csrf};
use crate::web::error::WebError;
use crate::web::pages::{Chrome, private_page};

#[derive(Template)]
#[template(path = "problems/admin_list.html")]
struct ListPage {
    chrome: Chrome,
    problems: Vec<ProblemView>,
    overdue_only: bool,
    channels: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "problems/admin_one.html")]
struct OnePage {
    chrome: Chrome,
    p: ProblemView,
    steps: Vec<StepView>,
}

/// `GET /admin/problems`.
pub async fn list(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let overdue_only = query.overdue.as_deref().is_some_and(|v| !v.is_empty());
    let calendar = state.config.calendar.clone();
    let problems = state
        .with_conn(move |conn| Ok(views::all(conn, &calendar, now(), overdue_only)?))
        .await?;
    private_page(&ListPage {
        chrome: Chrome::of(admin.user()),
        problems,
        overdue_only,
        channels: Channel::ALL
            .iter()
            .filter(|c| **c != Channel::Survey)
            .map(|c| (c.as_str(), c.label()))
            .collect(),
    })
}

/// `POST /admin/problems`: register a problem from another channel.
pub async fn register(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    form: web::Form<ProblemForm>,
) -> Result<HttpResponse, WebError> {
    csrf::check(admin.user(), form.csrf_token.as_deref())?;
    let form = form.into_inner();
    let channel = form
        .channel
        .parse::<Channel>()
        .map_err(|e| WebError::BadRequest(e.0))?;
    let new = NewProblem {
        channel: Some(channel),
        unit_code: Some(form.unit),
        enterprise_name: Some(form.enterprise),
        reporter_name: Some(form.name),
        reporter_phone: Some(form.phone),
        reporter_email: Some(form.email),
        description: form.description,
    };
    let actor = admin.user().actor();
    let id = state
        .with_conn(move |conn| Ok(problems::register(conn, &actor, &new, now())?))
        .await?;
    see_other(&format!("/admin/problems/{id}"))
}

/// `GET /admin/problems/{id}`: one problem with every step.
pub async fn one(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let calendar = state.config.calendar.clone();
    let (p, steps) = state
        .with_conn(move |conn| Ok(views::one(conn, &calendar, id, now())?))
        .await?;
    private_page(&OnePage {
        chrome: Chrome::of(admin.user()),
        p,
        steps,
    })
}

/// `POST /admin/problems/{id}/assign`: 交办, with the normal deadline in working days.
pub async fn assign(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    id: web::Path<i64>,
    form: web::Form<ProblemForm>,
) -> Result<HttpResponse, WebError> {
    csrf::check(admin.user(), form.csrf_token.as_deref())?;
    let id = id.into_inner();
    let actor = admin.user().actor();
    let config = state.config.clone();
    let unit = form.into_inner().unit;
    state
        .with_conn(move |conn| {
            let wf = Workflow::of(&config);
            Ok(problems::assign(conn, &wf, &actor, id, Some(&unit), now())?)
        })
        .await?;
    see_other(&format!("/admin/problems/{id}"))
}

/// `POST /admin/problems/{id}/verdict`: the enterprise's verdict as told to the 营商办.
pub async fn verdict(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    id: web::Path<i64>,
    form: web::Form<ProblemForm>,
) -> Result<HttpResponse, WebError> {
    csrf::check(admin.user(), form.csrf_token.as_deref())?;
    let id = id.into_inner();
    let form = form.into_inner();
    let is_resolved = resolved(&form.resolved)?;
    let actor = admin.user().actor();
    let config = state.config.clone();
    state
        .with_conn(move |conn| {
            let wf = Workflow::of(&config);
            Ok(problems::verdict_by_admin(
                conn,
                &wf,
                &actor,
                id,
                is_resolved,
                Some(&form.note),
                now(),
            )?)
        })
        .await?;
    see_other(&format!("/admin/problems/{id}"))
}

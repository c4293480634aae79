//! The registry: browse and search units and enterprises, upload their CSV files (the CLI's
//! importer, the CLI's error list), mark bounced addresses, and a unit's page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::outcome::{Outcome, failed};
use crate::db::enterprises::EnterpriseRow;
use crate::db::units::UnitRow;
use crate::service::admin::{self, RegistryPage};
use crate::service::import::{self, ImportReport};
use crate::service::outreach;
use crate::service::unit_page::{self, Audience};
use crate::web::AppState;
use crate::web::auth::{Admin, RequireRole, csrf};
use crate::web::error::WebError;
use crate::web::pages::unit::UnitPageView;
use crate::web::pages::{Chrome, private_page};
use crate::web::upload;

/// `?q=…&page=…` of a listing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Browse {
    q: String,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin/units.html")]
struct UnitsPage {
    chrome: Chrome,
    listing: RegistryPage<UnitRow>,
}

#[derive(Template)]
#[template(path = "admin/enterprises.html")]
struct EnterprisesPage {
    chrome: Chrome,
    listing: RegistryPage<EnterpriseRow>,
}

/// `GET /admin/units`.
pub async fn units(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    browse: web::Query<Browse>,
) -> Result<HttpResponse, WebError> {
    let Browse { q, page } = browse.into_inner();
    let listing = state
        .with_conn(move |conn| Ok(admin::units_page(conn, &q, page.unwrap_or(1))?))
        .await?;
    private_page(&UnitsPage {
        chrome: Chrome::of(admin.user()),
        listing,
    })
}

/// `GET /admin/enterprises`.
pub async fn enterprises(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    browse: web::Query<Browse>,
) -> Result<HttpResponse, WebError> {
    let Browse { q, page } = browse.into_inner();
    let listing = state
        .with_conn(move |conn| Ok(admin::enterprises_page(conn, &q, page.unwrap_or(1))?))
        .await?;
    private_page(&EnterprisesPage {
        chrome: Chrome::of(admin.user()),
        listing,
    })
}

/// `GET /admin/units/{code}`: the unit's page, as its own viewer sees it.
pub async fn unit(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    code: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let code = code.into_inner();
    let page = state
        .with_conn(move |conn| Ok(unit_page::unit_page(conn, &code, Audience::Admin)?))
        .await?;
    private_page(&UnitPageView::new(
        Chrome::of(admin.user()),
        page,
        "/admin/units/",
    ))
}

/// Which registry file an upload is.
#[derive(Debug, Clone, Copy)]
enum Registry {
    Units,
    Enterprises,
}

impl Registry {
    fn label(self) -> &'static str {
        match self {
            Registry::Units => "单位",
            Registry::Enterprises => "企业",
        }
    }

    fn back(self) -> (&'static str, &'static str) {
        match self {
            Registry::Units => ("/admin/units", "返回单位名录"),
            Registry::Enterprises => ("/admin/enterprises", "返回企业名录"),
        }
    }
}

/// What an import did, in one line.
pub fn import_summary(what: &str, r: &ImportReport) -> String {
    let heads = if r.head_terms_added > 0 {
        format!(",新任负责人记录 {}", r.head_terms_added)
    } else {
        String::new()
    };
    format!(
        "已导入{what}({}):共 {} 行,新增 {},更新 {},未变 {}{heads}",
        r.encoding, r.rows, r.inserted, r.updated, r.unchanged
    )
}

async fn upload_registry(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    req: HttpRequest,
    payload: web::Payload,
    which: Registry,
) -> Result<HttpResponse, WebError> {
    let form = upload::read(&req, payload).await.map_err(upload::refused)?;
    csrf::check(admin.user(), form.field("csrf_token"))?;
    let chrome = Chrome::of(admin.user());
    let title = format!("导入{}名录", which.label());
    let Some(bytes) = form.files.get("file").filter(|b| !b.is_empty()).cloned() else {
        return Outcome {
            ok: false,
            ..Outcome::done(
                chrome,
                &title,
                vec!["请选择要上传的 CSV 文件".into()],
                which.back(),
            )
        }
        .respond(StatusCode::BAD_REQUEST);
    };
    let actor = admin.user().actor();
    let outcome = state
        .with_conn(move |conn| {
            Ok(match which {
                Registry::Units => import::import_units(conn, &actor, &bytes, &mut |_, _| {}),
                Registry::Enterprises => {
                    import::import_enterprises(conn, &actor, &bytes, &mut |_, _| {})
                }
            })
        })
        .await?;
    match outcome {
        Ok(report) => Outcome::done(
            chrome,
            &title,
            vec![import_summary(which.label(), &report)],
            which.back(),
        )
        .respond(StatusCode::OK),
        Err(e) => failed(chrome, &title, e, which.back()),
    }
}

/// `POST /admin/import/units` (multipart: `file`, `csrf_token`).
pub async fn import_units(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    upload_registry(state, admin, req, payload, Registry::Units).await
}

/// `POST /admin/import/enterprises` (multipart: `file`, `csrf_token`).
pub async fn import_enterprises(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    upload_registry(state, admin, req, payload, Registry::Enterprises).await
}

/// The bounce form: addresses one a line.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BounceForm {
    csrf_token: Option<String>,
    addresses: String,
}

/// `POST /admin/mail/bounce`: marks addresses bounced (issue 3's admin action, `mail bounce`).
pub async fn bounce(
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    form: web::Form<BounceForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    csrf::check(admin.user(), form.csrf_token.as_deref())?;
    let chrome = Chrome::of(admin.user());
    let actor = admin.user().actor();
    let back = ("/admin/enterprises", "返回企业名录");
    let outcome = state
        .with_conn(move |conn| Ok(outreach::bounce(conn, &actor, &form.addresses)))
        .await?;
    let title = "标记退信地址";
    match outcome {
        Ok(r) => {
            let mut lines = vec![format!(
                "已将 {} 家企业标记为退信,不再向其发送邮件;其未作答的邀请 {} 份同时标记为退信",
                r.enterprises, r.invitations
            )];
            if !r.unknown.is_empty() {
                lines.push(format!(
                    "以下 {} 个地址不属于任何已登记企业,未作处理:{}",
                    r.unknown.len(),
                    r.unknown.join("、")
                ));
            }
            Outcome::done(chrome, title, lines, back).respond(StatusCode::OK)
        }
        Err(e) => failed(chrome, title, e, back),
    }
}

//! What the public sees: published rankings (page and JSON), nothing else. Served from the
//! database's frozen publications, so every `serve` process shows the same version.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, WebError};
use crate::domain::Period;
use crate::report::model::{PublicPeerGroup, PublicResults, PublicUnit};
use crate::service::{method_page, publication};

/// `?version=N` picks a superseded version; without it, the current one.
#[derive(Debug, Deserialize)]
pub struct VersionQuery {
    pub version: Option<i32>,
}

fn parse_period(raw: &str) -> Result<Period, WebError> {
    raw.parse().map_err(|_| WebError::NotFound)
}

/// `GET /api/v1/campaigns/{period}/results`
pub async fn results_json(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<VersionQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = parse_period(&path)?;
    let version = query.version;
    let results = state
        .with_conn(move |conn| Ok(publication::public_results(conn, &period, version)?))
        .await?;
    Ok(HttpResponse::Ok().json(results))
}

#[derive(Template)]
#[template(path = "public/rankings.html")]
struct RankingsPage<'a> {
    results: &'a PublicResults,
    groups: Vec<GroupView<'a>>,
    versions: Vec<(i32, Option<String>)>,
    /// Groups with fewer ranked units are ranked, not flagged (docs/method.md §6.1: 2N).
    flag_min_units: usize,
    /// The campaign page of a 「未公布 · 预览」.
    preview: Option<String>,
}

struct GroupView<'a> {
    group: &'a PublicPeerGroup,
    ranked: Vec<UnitView<'a>>,
    unranked: Vec<UnitView<'a>>,
    flaggable: bool,
}

struct UnitView<'a> {
    unit: &'a PublicUnit,
    kind_zh: &'static str,
    bottom_five: bool,
    flagged: bool,
}

impl UnitView<'_> {
    fn status(&self) -> &'static str {
        if self.unit.suppressed {
            "样本不足"
        } else if !self.unit.eligible {
            "样本较少,不参与排名"
        } else {
            ""
        }
    }
}

fn kind_zh(kind: &str) -> &'static str {
    match kind.parse::<crate::domain::UnitKind>() {
        Ok(k) => k.label_zh(),
        Err(_) => "",
    }
}

/// `GET /rankings/{period}`
pub async fn rankings_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<VersionQuery>,
) -> Result<HttpResponse, WebError> {
    let period = parse_period(&path)?;
    let version = query.version;
    let (results, versions) = state
        .with_conn(move |conn| {
            let results = publication::public_results(conn, &period, version)?;
            let versions = publication::versions(conn, &period)?.into_iter().collect();
            Ok((results, versions))
        })
        .await?;
    let html = rankings_html(&results, versions, state.config.stats.bottom_n, None)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// The rankings page of `results`. `preview` is the campaign page's address when the results
/// are the 营商办's 「未公布 · 预览」: the page then says so at its top and in its title, and
/// links the preview's downloads instead of the versions and the method page.
pub(crate) fn rankings_html(
    results: &PublicResults,
    versions: Vec<(i32, Option<String>)>,
    bottom_n: usize,
    preview: Option<String>,
) -> Result<String, WebError> {
    let rule = crate::stats::BottomRule::new(bottom_n);
    let flagged: std::collections::HashSet<&str> =
        results.flags.iter().map(|f| f.unit_code.as_str()).collect();
    let groups = results
        .peer_groups
        .iter()
        .map(|group| {
            let ranked_count = group.units.iter().filter(|u| u.rank.is_some()).count();
            let view = |unit| UnitView {
                unit,
                kind_zh: kind_zh(&unit.kind),
                bottom_five: rule.in_bottom(unit.rank, ranked_count),
                flagged: flagged.contains(unit.code.as_str()),
            };
            let mut ranked: Vec<UnitView> = group
                .units
                .iter()
                .filter(|u| u.rank.is_some())
                .map(view)
                .collect();
            ranked.sort_by_key(|v| v.unit.rank);
            let unranked = group
                .units
                .iter()
                .filter(|u| u.rank.is_none())
                .map(view)
                .collect();
            GroupView {
                group,
                ranked,
                unranked,
                flaggable: rule.flaggable(ranked_count),
            }
        })
        .collect();
    let page = RankingsPage {
        results,
        groups,
        versions,
        flag_min_units: rule.min_ranked(),
        preview,
    };
    page.render().map_err(WebError::internal)
}

/// `GET /rankings/{period}/method`: 「评议结果是怎样算出来的」, the same page as the published
/// `method.html`, rendered from the frozen publication. It is self-contained, so its policy allows
/// its own inline stylesheet (by hash) and nothing else.
pub async fn method_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<VersionQuery>,
) -> Result<HttpResponse, WebError> {
    let period = parse_period(&path)?;
    let version = query.version;
    let html = state
        .with_conn(move |conn| Ok(method_page::page(conn, &period, version)?))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            super::security::self_contained_policy(crate::report::method::STYLE),
        ))
        .body(html))
}

/// The site's one stylesheet (CSP allows styles from this origin only).
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("assets/site.css"))
}

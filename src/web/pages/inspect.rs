//! `/inspect/`: the inspectors' pages — the accountability flags (filtered by period, peer group
//! and credibility, credible and uncertain apart), the search box, a unit's and a person's
//! history. Every view is audited by the service it calls.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, private_page};
use crate::domain::Period;
use crate::service::history::{self, PersonHistory, SearchResults, UnitHistory};
use crate::service::oversight::{self, Channel, FlagFilter, FlagView};
use crate::web::AppState;
use crate::web::auth::{Inspector, RequireRole};
use crate::web::error::WebError;

#[derive(Template)]
#[template(path = "inspect/home.html")]
struct InspectHome {
    chrome: Chrome,
    credible: Vec<FlagView>,
    uncertain: Vec<FlagView>,
    periods: Vec<String>,
    peer_groups: Vec<String>,
    query: FlagQuery,
}

fn parse_period(raw: Option<&str>) -> Result<Option<Period>, WebError> {
    match non_empty(raw) {
        None => Ok(None),
        Some(p) => p
            .parse::<Period>()
            .map(Some)
            .map_err(|e| WebError::BadRequest(e.to_string())),
    }
}

fn non_empty(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

/// The flags' filters as query parameters (the page's form and `GET /api/v1/flags`):
/// `period=2019H2`, `peer_group=部门`, `credible=true|false`; an empty value means "all".
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FlagQuery {
    pub period: Option<String>,
    pub peer_group: Option<String>,
    pub credible: Option<String>,
}

impl FlagQuery {
    /// The filter asked for; a bad period or credibility is a 400 that says why.
    pub fn filter(&self) -> Result<FlagFilter, WebError> {
        let credible = match non_empty(self.credible.as_deref()) {
            None => None,
            Some("true" | "credible" | "可信") => Some(true),
            Some("false" | "uncertain" | "存疑") => Some(false),
            Some(other) => {
                return Err(WebError::BadRequest(format!(
                    "credible 只能是 true(可信)或 false(存疑),收到「{other}」"
                )));
            }
        };
        Ok(FlagFilter {
            period: parse_period(self.period.as_deref())?,
            peer_group: non_empty(self.peer_group.as_deref()).map(str::to_owned),
            credible,
        })
    }

    /// Whether the form's option `value` of field `field` is the one asked for.
    fn selected(&self, field: &str, value: &str) -> bool {
        let current = match field {
            "period" => &self.period,
            "peer_group" => &self.peer_group,
            _ => &self.credible,
        };
        non_empty(current.as_deref()).unwrap_or_default() == value
    }
}

/// `GET /inspect/?period=&peer_group=&credible=`.
pub async fn home(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
    query: web::Query<FlagQuery>,
) -> Result<HttpResponse, WebError> {
    let query = query.into_inner();
    let filter = query.filter()?;
    let actor = inspector.user().actor();
    let (flags, periods, peer_groups) = state
        .with_conn(move |conn| {
            let flags = oversight::read_flags_filtered(conn, &actor, Channel::Page, &filter)?;
            let periods = history::published_periods(conn)?;
            let groups = crate::db::units::peer_group_names(conn)?;
            Ok((flags, periods, groups))
        })
        .await?;
    let (credible, uncertain) = flags.into_iter().partition(|f| f.credible);
    private_page(&InspectHome {
        chrome: Chrome::of(inspector.user()),
        credible,
        uncertain,
        periods,
        peer_groups,
        query,
    })
}

#[derive(Template)]
#[template(path = "inspect/search.html")]
struct SearchPage {
    chrome: Chrome,
    results: SearchResults,
}

/// `?q=…` of the search box.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
}

/// `GET /inspect/search?q=`: units by code or name, heads by name.
pub async fn search(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, WebError> {
    let q = query.into_inner().q.unwrap_or_default();
    let actor = inspector.user().actor();
    let results = state
        .with_conn(move |conn| Ok(oversight::search(conn, &actor, Channel::Page, &q)?))
        .await?;
    private_page(&SearchPage {
        chrome: Chrome::of(inspector.user()),
        results,
    })
}

#[derive(Template)]
#[template(path = "inspect/unit.html")]
struct UnitPage {
    chrome: Chrome,
    history: UnitHistory,
}

/// `GET /inspect/units/{code}`: every published campaign of the unit and its predecessors.
pub async fn unit(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
    code: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let code = code.into_inner();
    let actor = inspector.user().actor();
    let history = state
        .with_conn(move |conn| {
            Ok(oversight::read_unit_history(
                conn,
                &actor,
                Channel::Page,
                &code,
            )?)
        })
        .await?;
    private_page(&UnitPage {
        chrome: Chrome::of(inspector.user()),
        history,
    })
}

#[derive(Template)]
#[template(path = "inspect/person.html")]
struct PersonPage {
    chrome: Chrome,
    history: PersonHistory,
}

/// `GET /inspect/people/{name}`: every term recorded under the name, with the units' results.
pub async fn person(
    state: web::Data<AppState>,
    inspector: RequireRole<Inspector>,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let name = name.into_inner();
    let actor = inspector.user().actor();
    let history = state
        .with_conn(move |conn| {
            Ok(oversight::read_person_history(
                conn,
                &actor,
                Channel::Page,
                &name,
            )?)
        })
        .await?;
    private_page(&PersonPage {
        chrome: Chrome::of(inspector.user()),
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::FlagQuery;

    fn query(period: &str, peer_group: &str, credible: &str) -> FlagQuery {
        FlagQuery {
            period: Some(period.into()),
            peer_group: Some(peer_group.into()),
            credible: Some(credible.into()),
        }
    }

    #[test]
    fn empty_filters_mean_all_and_bad_ones_say_what_is_allowed() {
        let all = query("", " ", "").filter().ok();
        assert_eq!(all, Some(Default::default()));
        let some = query("2019H2", "处室", "false").filter().ok();
        assert_eq!(
            some.map(|f| (f.period.map(|p| p.to_string()), f.peer_group, f.credible)),
            Some((Some("2019H2".into()), Some("处室".into()), Some(false)))
        );
        let bad = query("", "", "maybe").filter().err().map(|e| e.to_string());
        assert!(bad.is_some_and(|m| m.contains("true") && m.contains("maybe")));
        assert!(query("2019H3", "", "").filter().is_err());
    }
}

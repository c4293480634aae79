//! The route table as data. [`ROUTES`] lists every path the server answers, with an example
//! request; [`super::routes`] registers exactly these, and the authorization-matrix test
//! (`tests/it/authorization.rs`) asserts an answer for each route and role. A route added here
//! without a row in that test's table fails it — so add routes here, never around this table.

use actix_web::{Route, web};

use super::{api, assets, auth, healthz, pages, public, survey};

/// The method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    fn route(self) -> Route {
        match self {
            Verb::Get => web::get(),
            Verb::Post => web::post(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
        }
    }
}

/// One route: method, actix path pattern, an example path to request it, and its handler.
pub struct RouteSpec {
    pub verb: Verb,
    pub path: &'static str,
    pub example: &'static str,
    handler: fn(Route) -> Route,
}

impl RouteSpec {
    /// The actix route of this entry.
    pub fn route(&self) -> Route {
        (self.handler)(self.verb.route())
    }
}

/// Whether `path` is one of the enterprises' survey routes (the questionnaire, its API, its
/// assets), which [`super::routes`] registers first.
pub fn is_survey(path: &str) -> bool {
    path.starts_with("/s/")
        || path.starts_with("/api/v1/survey/")
        || path == "/api/v1/responses"
        || path.starts_with("/static/survey")
}

/// Every route of the server.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        verb: Verb::Get,
        path: "/healthz",
        example: "/healthz",
        handler: |r| r.to(healthz),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/login",
        example: "/login",
        handler: |r| r.to(auth::login::form),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/login",
        example: "/login",
        handler: |r| r.to(auth::login::submit),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/logout",
        example: "/logout",
        handler: |r| r.to(auth::login::logout),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/",
        example: "/admin/",
        handler: |r| r.to(pages::admin::home),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/campaigns",
        example: "/admin/campaigns",
        handler: |r| r.to(pages::admin::create),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/campaigns/{period}",
        example: "/admin/campaigns/2019H2",
        handler: |r| r.to(pages::admin::show),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/campaigns/{period}/invitees.csv",
        example: "/admin/campaigns/2019H2/invitees.csv",
        handler: |r| r.to(pages::admin::invitees_csv),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/campaigns/{period}/interactions",
        example: "/admin/campaigns/2019H2/interactions",
        handler: |r| r.to(pages::admin::import_interactions),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/campaigns/{period}/actions/{action}",
        example: "/admin/campaigns/2019H2/actions/remind",
        handler: |r| r.to(pages::admin::action),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/campaigns/{period}/key-check",
        example: "/admin/campaigns/2019H2/key-check",
        handler: |r| r.to(pages::admin::confirm_key),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/campaigns/{period}/close",
        example: "/admin/campaigns/2019H2/close",
        handler: |r| r.to(pages::admin::close),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/campaigns/{period}/preview",
        example: "/admin/campaigns/2019H2/preview",
        handler: |r| r.to(pages::admin::preview_page),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/campaigns/{period}/preview/{file}",
        example: "/admin/campaigns/2019H2/preview/results.csv",
        handler: |r| r.to(pages::admin::preview_download),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/campaigns/{period}/comments",
        example: "/admin/campaigns/2019H2/comments",
        handler: |r| r.to(pages::admin::comments),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/comments/{id}/hide",
        example: "/admin/comments/1/hide",
        handler: |r| r.to(pages::admin::hide_comment),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/comments/{id}/approve",
        example: "/admin/comments/1/approve",
        handler: |r| r.to(pages::admin::approve_comment),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/campaigns/{period}/comments/approve-all",
        example: "/admin/campaigns/2019H2/comments/approve-all",
        handler: |r| r.to(pages::admin::approve_all_comments),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/reports/{period}/{file:.*}",
        example: "/admin/reports/1999H1/results.csv",
        handler: |r| r.to(pages::admin::download),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/units",
        example: "/admin/units?q=A01",
        handler: |r| r.to(pages::admin::units),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/units/{code}",
        example: "/admin/units/A01",
        handler: |r| r.to(pages::admin::unit),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/enterprises",
        example: "/admin/enterprises",
        handler: |r| r.to(pages::admin::enterprises),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/import/units",
        example: "/admin/import/units",
        handler: |r| r.to(pages::admin::import_units),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/import/enterprises",
        example: "/admin/import/enterprises",
        handler: |r| r.to(pages::admin::import_enterprises),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/mail/bounce",
        example: "/admin/mail/bounce",
        handler: |r| r.to(pages::admin::bounce),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/inspect/",
        example: "/inspect/",
        handler: |r| r.to(pages::inspect::home),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/inspect/search",
        example: "/inspect/search?q=%E7%94%B2",
        handler: |r| r.to(pages::inspect::search),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/inspect/units/{code}",
        example: "/inspect/units/A01-1",
        handler: |r| r.to(pages::inspect::unit),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/inspect/people/{name}",
        example: "/inspect/people/%E5%BC%A0%E5%A4%84%E9%95%BF",
        handler: |r| r.to(pages::inspect::person),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/unit/",
        example: "/unit/",
        handler: |r| r.to(pages::unit::home),
    },
    // Before `/unit/{code}`, which would otherwise take "problems" for a unit code.
    RouteSpec {
        verb: Verb::Get,
        path: "/unit/problems",
        example: "/unit/problems",
        handler: |r| r.to(pages::problems::unit::list),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/unit/{code}",
        example: "/unit/A01",
        handler: |r| r.to(pages::unit::one),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/api/v1/flags",
        example: "/api/v1/flags?period=2019H2",
        handler: |r| r.to(api::flags::list),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/api/v1/units/{code}/history",
        example: "/api/v1/units/A01-1/history",
        handler: |r| r.to(api::history::unit),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/api/v1/people/{name}/history",
        example: "/api/v1/people/%E5%BC%A0%E5%A4%84%E9%95%BF/history",
        handler: |r| r.to(api::history::person),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/assets/site.css",
        example: "/assets/site.css",
        handler: |r| r.to(public::stylesheet),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/rankings/{period}",
        example: "/rankings/2019H1",
        handler: |r| r.to(public::rankings_page),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/rankings/{period}/method",
        example: "/rankings/2019H1/method",
        handler: |r| r.to(public::method_page),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/api/v1/campaigns/{period}/results",
        example: "/api/v1/campaigns/2019H1/results",
        handler: |r| r.to(public::results_json),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/static/survey.css",
        example: "/static/survey.css",
        handler: |r| r.to(assets::survey_css),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/static/survey.js",
        example: "/static/survey.js",
        handler: |r| r.to(assets::survey_js),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/s/thanks",
        example: "/s/thanks",
        handler: |r| r.to(survey::thanks),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/s/{token}",
        example: "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        handler: |r| r.to(survey::show),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/s/{token}",
        example: "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        handler: |r| r.to(survey::submit),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/api/v1/survey/{token}",
        example: "/api/v1/survey/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        handler: |r| r.to(api::survey),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/api/v1/responses",
        example: "/api/v1/responses",
        handler: |r| r.to(api::submit),
    },
    // The problem list (问题清单): src/web/pages/problems/.
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/problems",
        example: "/admin/problems",
        handler: |r| r.to(pages::problems::admin::list),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/problems",
        example: "/admin/problems",
        handler: |r| r.to(pages::problems::admin::register),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/admin/problems/{id}",
        example: "/admin/problems/999",
        handler: |r| r.to(pages::problems::admin::one),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/problems/{id}/assign",
        example: "/admin/problems/999/assign",
        handler: |r| r.to(pages::problems::admin::assign),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/admin/problems/{id}/verdict",
        example: "/admin/problems/999/verdict",
        handler: |r| r.to(pages::problems::admin::verdict),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/unit/problems/{id}/answer",
        example: "/unit/problems/999/answer",
        handler: |r| r.to(pages::problems::unit::answer),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/inspect/problems",
        example: "/inspect/problems",
        handler: |r| r.to(pages::problems::inspect::list),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/s/{token}/problem",
        example: "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/problem",
        handler: |r| r.to(pages::problems::enterprise::show_named_form),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/s/{token}/problem",
        example: "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/problem",
        handler: |r| r.to(pages::problems::enterprise::submit_named_form),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/p/{token}",
        example: "/p/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        handler: |r| r.to(pages::problems::enterprise::show_confirmation),
    },
    RouteSpec {
        verb: Verb::Post,
        path: "/p/{token}",
        example: "/p/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        handler: |r| r.to(pages::problems::enterprise::submit_confirmation),
    },
    RouteSpec {
        verb: Verb::Get,
        path: "/openapi.json",
        example: "/openapi.json",
        handler: |r| r.to(api::openapi),
    },
];

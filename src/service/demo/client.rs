//! The demo's simulated enterprises as HTTP clients of the running server: each fetches the
//! questionnaire behind its link (`GET /api/v1/survey/{token}`), answers it and posts the answer
//! (`POST /api/v1/responses`), as an app or the survey page would. Several clients run at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Deserialize;

use super::Progress;
use super::answers::simulate;
use super::city::{DemoEnterprise, DemoUnit};
use crate::domain::SurveyTemplate;
use crate::service::ServiceError;

/// One enterprise about to answer: its link and the seed of its answers (so the answers do not
/// depend on which client thread happens to send them).
pub struct Respondent<'a> {
    pub token: String,
    pub enterprise: &'a DemoEnterprise,
    pub seed: u64,
}

/// What the clients need besides the respondents.
pub struct Clients<'a> {
    /// The running server, e.g. `http://127.0.0.1:8080`.
    pub server: &'a str,
    /// Simulated units by code (their true quality drives the answers).
    pub units: &'a HashMap<&'a str, &'a DemoUnit>,
    pub template: &'a SurveyTemplate,
    /// Concurrent clients.
    pub threads: usize,
}

#[derive(Deserialize)]
struct Questionnaire {
    units: Vec<QuestionnaireUnit>,
}

#[derive(Deserialize)]
struct QuestionnaireUnit {
    code: String,
}

impl Clients<'_> {
    /// Every respondent fetches, answers and submits; returns how many answers were stored (201).
    /// Any other status stops the run with the status, the path and the server's reply. A
    /// questionnaire that lists none of the city's units is left unanswered.
    pub fn answer_all(
        &self,
        respondents: &[Respondent<'_>],
        progress: &dyn Progress,
    ) -> Result<usize, ServiceError> {
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let stored = AtomicUsize::new(0);
        let failure: Mutex<Option<String>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..self.threads.max(1) {
                scope.spawn(|| {
                    let agent = agent();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(respondent) = respondents.get(i) else {
                            break;
                        };
                        if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                            break;
                        }
                        match self.answer(&agent, respondent) {
                            Ok(true) => {
                                stored.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(false) => {}
                            Err(e) => {
                                if let Ok(mut f) = failure.lock() {
                                    f.get_or_insert(e);
                                }
                                break;
                            }
                        }
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_multiple_of(50) || n == respondents.len() {
                            progress.advance(n, respondents.len());
                        }
                    }
                });
            }
        });
        match failure.into_inner().ok().flatten() {
            Some(message) => Err(ServiceError::Invalid(format!("模拟企业作答失败:{message}"))),
            None => Ok(stored.into_inner()),
        }
    }

    fn answer(&self, agent: &ureq::Agent, respondent: &Respondent<'_>) -> Result<bool, String> {
        let path = format!("/api/v1/survey/{}", respondent.token);
        let mut reply = agent
            .get(format!("{}{path}", self.server))
            .call()
            .map_err(|e| format!("GET /api/v1/survey/…: {e}"))?;
        if reply.status() != 200 {
            let body = reply.body_mut().read_to_string().unwrap_or_default();
            return Err(format!(
                "GET /api/v1/survey/… 返回 {}:{body}",
                reply.status()
            ));
        }
        let questionnaire: Questionnaire = reply
            .body_mut()
            .read_json()
            .map_err(|e| format!("GET /api/v1/survey/… 的 JSON 无法读取:{e}"))?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(respondent.seed);
        let ratings: Vec<_> = questionnaire
            .units
            .iter()
            .filter_map(|u| self.units.get(u.code.as_str()))
            .map(|unit| simulate(unit, respondent.enterprise, self.template, &mut rng))
            .collect();
        if ratings.is_empty() {
            return Ok(false);
        }
        let body = serde_json::json!({ "token": respondent.token, "ratings": ratings });
        let mut reply = agent
            .post(format!("{}/api/v1/responses", self.server))
            .send_json(&body)
            .map_err(|e| format!("POST /api/v1/responses: {e}"))?;
        if reply.status() != 201 {
            let body = reply.body_mut().read_to_string().unwrap_or_default();
            return Err(format!(
                "POST /api/v1/responses 返回 {}:{body}",
                reply.status()
            ));
        }
        Ok(true)
    }
}

/// A keep-alive client that hands every status back instead of treating 4xx/5xx as errors.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

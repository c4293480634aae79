//! Campaign use cases on both backends: create, open.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use common::on_each_backend;
use common::scenario::{create_campaign, fixture_registry, secret};
use diesel::prelude::*;
use qiping::db::schema::outbox;
use qiping::service::ServiceError;
use qiping::service::campaign;
use qiping::service::links::token_hash;

#[test]
fn opening_invites_every_mailable_enterprise_and_queues_one_message_each() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        fixture_registry(&mut conn);
        create_campaign(&mut conn, "2019H2", None);
        let period = "2019H2".parse().unwrap();
        let report = crate::common::keys::open(&mut conn, &period).unwrap();
        let with_email = qiping::db::enterprises::mailable(&mut conn).unwrap().len();
        assert!(with_email > 0);
        assert_eq!(report.invited, with_email, "{}", db.backend);
        let shown = campaign::show(&mut conn, &period).unwrap();
        assert_eq!(
            (shown.state.as_str(), shown.invited),
            ("open", with_email as i64)
        );
        let queued: i64 = outbox::table
            .filter(outbox::kind.eq("invitation"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(queued, with_email as i64);

        // Only the hash of each link is stored, and it is the hash of the derived token.
        let row = qiping::service::campaign::find(&mut conn, &period).unwrap();
        for inv in qiping::db::invitations::of_campaign(&mut conn, row.id).unwrap() {
            let token = secret().token(inv.id, inv.link_version);
            assert_eq!(inv.token_hash, token_hash(&token));
            assert_ne!(inv.token_hash, token);
        }

        let again = crate::common::keys::open(&mut conn, &period).unwrap_err();
        assert!(matches!(again, ServiceError::Transition(_)), "{again}");
    });
}

/// Every ballot of a campaign has one size, set by the most units assigned to one enterprise: the
/// open refuses an enterprise assigned more than the cap (60), naming it, and opens nothing; the
/// key file is not written either.
#[test]
fn the_open_refuses_an_enterprise_assigned_more_units_than_a_ballot_holds() {
    use crate::survey_support::data;
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        let ignore = &mut |_: usize, _: usize| {};
        let actor = qiping::service::Actor::cli();
        // 21 departments with 2 offices each: 63 units.
        qiping::service::import::import_units(
            &mut conn,
            &actor,
            data::units_csv(21, 2).as_bytes(),
            ignore,
        )
        .unwrap();
        qiping::service::import::import_enterprises(
            &mut conn,
            &actor,
            data::enterprises_csv(2).as_bytes(),
            ignore,
        )
        .unwrap();
        let codes = data::unit_codes(21, 2);
        assert_eq!(codes.len(), 63);
        let mut csv = String::from("uscc,unit_code\n");
        for code in &codes[..61] {
            csv.push_str(&format!("{},{code}\n", data::uscc(1)));
        }
        csv.push_str(&format!("{},{}\n", data::uscc(2), codes[0]));
        let period = "2019H2".parse().unwrap();
        qiping::service::import::import_interactions(
            &mut conn,
            &actor,
            &period,
            csv.as_bytes(),
            ignore,
        )
        .unwrap();
        create_campaign(&mut conn, "2019H2", None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2019H2.key");
        let key = qiping::ballot::PrivateKey::generate().unwrap();
        let err = campaign::open(
            &mut conn,
            &actor,
            &secret(),
            &period,
            &key,
            false,
            |info, key| {
                qiping::ballot::keyfile::write_new(&path, info, key)
                    .map_err(|e| ServiceError::Invalid(e.to_string()))
            },
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("61") && text.contains(&data::uscc(1)),
            "{tag}: the refusal names the count and the enterprise: {text}"
        );
        let shown = campaign::show(&mut conn, &period).unwrap();
        assert_eq!((shown.state.as_str(), shown.invited), ("draft", 0), "{tag}");
        assert!(shown.key_fingerprint.is_none(), "{tag}: no key stored");
        assert!(!path.exists(), "{tag}: no key file written");
    });
}

/// An office that forgot to import the interactions is stopped before every enterprise is mailed a
/// questionnaire with no unit on it; it may confirm a campaign in which enterprises choose.
#[test]
fn opening_without_interactions_is_refused_unless_confirmed() {
    on_each_backend(|db| {
        let tag = db.backend;
        let mut conn = db.conn();
        fixture_registry(&mut conn);
        create_campaign(&mut conn, "2019H2", None);
        let period = "2019H2".parse().unwrap();
        let actor = qiping::service::Actor::cli();
        let key = qiping::ballot::PrivateKey::generate().unwrap();
        let err = campaign::open(
            &mut conn,
            &actor,
            &secret(),
            &period,
            &key,
            false,
            |_, _| Ok(()),
        )
        .unwrap_err();
        assert!(
            matches!(err, ServiceError::Conflict(_)) && err.to_string().contains("办事记录"),
            "{tag}: {err}"
        );
        assert_eq!(
            campaign::show(&mut conn, &period).unwrap().state,
            "draft",
            "{tag}"
        );
        let web = campaign::issue_key(&mut conn, &actor, &period, None, false).unwrap_err();
        assert!(web.to_string().contains("办事记录"), "{tag}: {web}");
        let report = campaign::open(&mut conn, &actor, &secret(), &period, &key, true, |_, _| {
            Ok(())
        })
        .unwrap();
        assert!(report.invited > 0, "{tag}");
    });
}

/// Whether a campaign is weighted is stored when it is created (issue 39) and decides its close
/// and its aggregation, whatever `[weighting] enabled` says then: a weighted campaign's ratings
/// carry a weight shared by at least five raters of their unit (never their strata) and its
/// results the raking; an unweighted one's neither.
fn weighting_choice(db: &common::TestDb, weighted: bool) {
    use qiping::db::schema::ratings;
    use qiping::service::closing::{self, CloseOptions};
    let tag = db.backend;
    let mut conn = db.conn();
    let tokens = crate::common::scenario::open_survey_campaign_as(&mut conn, 12, weighted);
    let period: qiping::domain::Period = crate::survey_support::PERIOD.parse().unwrap();
    assert_eq!(
        campaign::show(&mut conn, &period).unwrap().weighted,
        Some(weighted),
        "[{tag}]"
    );
    // The survey page of a weighted campaign says what the weights leave; an unweighted one's
    // says nothing of weights.
    let app = actix_web::rt::System::new().block_on(async {
        let app = crate::common::accounts::app(crate::common::accounts::state(
            db,
            qiping::config::Config::default(),
        ))
        .await;
        crate::common::accounts::get(&app, &format!("/s/{}", tokens[11]), None).await
    });
    assert_eq!(app.0, 200, "[{tag}] {}", app.1);
    assert_eq!(
        app.1.contains(qiping::domain::anonymity::WEIGHTED_ZH),
        weighted,
        "[{tag}] weighted {weighted}"
    );
    let cache = qiping::service::survey::SurveyContext::new(&crate::common::scenario::secret());
    for token in &tokens[..8] {
        let submission = crate::common::scenario::complete(&crate::survey_support::asked_codes());
        qiping::service::response::submit(&mut conn, &cache, token, &submission).unwrap();
    }
    // The configured default says the opposite: the campaign's own choice wins.
    let key = crate::common::keys::key_of(&mut conn, &period);
    closing::close(
        &mut conn,
        &qiping::service::Actor::cli(),
        &crate::common::scenario::secret(),
        &period,
        Some(&key),
        CloseOptions {
            exclude_unopenable: false,
            weighting_default: !weighted,
            raking: Default::default(),
            ..Default::default()
        },
    )
    .unwrap();
    // No rating carries its enterprise's strata; a weighted campaign's carry a weight, each
    // value shared by at least five raters of the unit, and a unit's weights add up to the raked
    // weights of the enterprises that rated it (here all eight rated every unit).
    let stored: Vec<(i64, String, String, String, Option<f64>)> = ratings::table
        .select((
            ratings::unit_id,
            ratings::size,
            ratings::industry,
            ratings::district,
            ratings::weight,
        ))
        .load(&mut conn)
        .unwrap();
    assert!(!stored.is_empty(), "[{tag}]");
    assert!(
        stored
            .iter()
            .all(|r| r.1.is_empty() && r.2.is_empty() && r.3.is_empty()),
        "[{tag}] strata stored"
    );
    assert!(
        stored.iter().all(|r| r.4.is_some() == weighted),
        "[{tag}] weighted {weighted}: {stored:?}"
    );
    if weighted {
        let campaign_id = campaign::find(&mut conn, &period).unwrap().id;
        let mut margins = qiping::stats::Margins {
            size: Some(Default::default()),
            industry: Some(Default::default()),
            district: Some(Default::default()),
        };
        for (s, i, d, n) in qiping::db::ratings::invited_strata(&mut conn, campaign_id).unwrap() {
            *margins.size.as_mut().unwrap().entry(s).or_default() += n as f64;
            *margins.industry.as_mut().unwrap().entry(i).or_default() += n as f64;
            *margins.district.as_mut().unwrap().entry(d).or_default() += n as f64;
        }
        let respondents = qiping::db::ratings::answered_strata(&mut conn, campaign_id)
            .unwrap()
            .into_iter()
            .map(|(size, industry, district)| qiping::stats::Strata {
                size,
                industry,
                district,
            })
            .collect::<Vec<_>>();
        assert_eq!(respondents.len(), 8, "[{tag}]");
        let (raked, _) = qiping::stats::weighting::rake_respondents(
            &qiping::stats::Weighting {
                margins,
                respondents,
            },
            &Default::default(),
        )
        .unwrap();
        let total: f64 = raked.iter().sum();
        let mut units: std::collections::BTreeMap<i64, Vec<f64>> = Default::default();
        for r in &stored {
            units.entry(r.0).or_default().push(r.4.unwrap());
        }
        for (unit, weights) in units {
            assert_eq!(weights.len(), 8, "[{tag}] unit {unit}");
            let mut shared: std::collections::BTreeMap<u64, usize> = Default::default();
            for w in &weights {
                *shared.entry(w.to_bits()).or_default() += 1;
            }
            assert!(
                shared.values().all(|&n| n >= 5),
                "[{tag}] unit {unit}: a weight marks out fewer than five raters: {weights:?}"
            );
            let sum: f64 = weights.iter().sum();
            assert!(
                (sum - total).abs() < 1e-9,
                "[{tag}] unit {unit}: {sum} vs {total}"
            );
        }
    }
    let result = aggregated(&mut conn, &period, !weighted);
    assert_eq!(
        !result["weighting"].is_null(),
        weighted,
        "[{tag}] the aggregation's weighting: {}",
        result["weighting"]
    );
}

#[test]
fn the_weighting_choice_is_stored_with_the_campaign_and_decides_its_close_and_results() {
    crate::common::on_each_backend(|db| weighting_choice(db, true));
    crate::common::on_each_backend(|db| weighting_choice(db, false));
}

/// A stored rating as a test compares it: unit, answers, problems, comment, weight bits.
type StoredRating = (i64, String, String, Option<String>, Option<u64>);

/// One campaign of 12 invitees, 10 of whom answer with varied levels, problems and comments, closed
/// with `options` and aggregated (seed fixed). Returns what was stored (unit, answers, problems,
/// comment, weight bits; sorted) and the aggregation's figures.
fn close_with(
    db: &common::TestDb,
    options: qiping::service::closing::CloseOptions,
) -> (Vec<StoredRating>, serde_json::Value) {
    use qiping::db::schema::ratings;
    let mut conn = db.conn();
    let tokens = crate::common::scenario::open_survey_campaign_as(&mut conn, 12, true);
    let period: qiping::domain::Period = crate::survey_support::PERIOD.parse().unwrap();
    let cache = qiping::service::survey::SurveyContext::new(&crate::common::scenario::secret());
    for (e, token) in tokens[..10].iter().enumerate() {
        let mut submission =
            crate::common::scenario::complete(&crate::survey_support::asked_codes());
        for (u, rating) in submission.ratings.iter_mut().enumerate() {
            for (q, level) in rating.answers.values_mut().enumerate() {
                *level = Some(((e * 3 + u * 2 + q) % 5 + 1) as i64);
            }
            rating.comment = (e % 3 == 0).then(|| format!("第{e}家企业对第{u}个单位的意见"));
        }
        qiping::service::response::submit(&mut conn, &cache, token, &submission).unwrap();
    }
    let key = crate::common::keys::key_of(&mut conn, &period);
    qiping::service::closing::close(
        &mut conn,
        &qiping::service::Actor::cli(),
        &crate::common::scenario::secret(),
        &period,
        Some(&key),
        options,
    )
    .unwrap();
    let mut stored: Vec<StoredRating> = ratings::table
        .select((
            ratings::unit_id,
            ratings::answers,
            ratings::problems,
            ratings::comment,
            ratings::weight,
        ))
        .load::<(i64, String, String, Option<String>, Option<f64>)>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|(u, a, p, c, w)| (u, a, p, c, w.map(f64::to_bits)))
        .collect();
    stored.sort();
    (stored, aggregated(&mut conn, &period, false))
}

/// Aggregates `period` (R = 200, seed 7; `unweighted` as `--unweighted`) and returns the stored
/// figures.
fn aggregated(
    conn: &mut qiping::db::Conn,
    period: &qiping::domain::Period,
    unweighted: bool,
) -> serde_json::Value {
    use qiping::db::schema::aggregations;
    qiping::service::aggregate::aggregate(
        conn,
        &qiping::service::Actor::cli(),
        period,
        &qiping::stats::Settings {
            draws: 200,
            ..Default::default()
        },
        unweighted,
        Some(7),
    )
    .unwrap();
    let result: String = aggregations::table
        .select(aggregations::result_json)
        .first(conn)
        .unwrap();
    serde_json::from_str(&result).unwrap()
}

/// A close above its memory bound (`[close] memory_mib`; here one byte, so every entry waits in
/// a sealed scratch file of its own bucket) stores exactly what a close in memory stores — the
/// same ratings, weights and figures — and leaves nothing in its scratch folder (issue 39's
/// province scale: one close implementation, streaming above the bound).
#[test]
fn a_close_above_its_memory_bound_stores_what_a_close_in_memory_stores() {
    crate::common::on_each_backend(|db| {
        let tag = db.backend;
        let twin = match tag {
            "sqlite" => common::TestDb::sqlite(),
            _ => common::TestDb::postgres().unwrap(),
        };
        let scratch = tempfile::tempdir().unwrap();
        let in_memory = close_with(db, Default::default());
        let spilled = close_with(
            &twin,
            qiping::service::closing::CloseOptions {
                memory_bound: 1,
                scratch_dir: Some(scratch.path().to_path_buf()),
                ..Default::default()
            },
        );
        assert_eq!(
            in_memory.0.len(),
            10 * crate::survey_support::asked_codes().len()
        );
        assert!(
            in_memory.0.iter().all(|r| r.4.is_some()),
            "[{tag}] weighted"
        );
        assert!(
            in_memory.0.iter().any(|r| r.3.is_some()),
            "[{tag}] comments"
        );
        assert!(
            in_memory.0 == spilled.0,
            "[{tag}] the stored ratings differ"
        );
        assert_eq!(in_memory.1["units"], spilled.1["units"], "[{tag}]");
        assert_eq!(
            std::fs::read_dir(scratch.path()).unwrap().count(),
            0,
            "[{tag}] scratch files left behind"
        );
    });
}

/// A close whose scratch folder cannot take its files (here it does not exist) fails saying
/// where, changes nothing but the campaign's `closing` state (no rating stored, every ballot
/// still sealed in its table), and a rerun with a usable folder finishes it.
#[test]
fn a_close_that_cannot_write_its_scratch_files_changes_nothing_and_can_be_rerun() {
    crate::common::on_each_backend(|db| {
        use qiping::service::closing::{self, CloseOptions};
        let tag = db.backend;
        let mut conn = db.conn();
        let tokens = crate::common::scenario::open_survey_campaign(&mut conn, 8);
        let period: qiping::domain::Period = crate::survey_support::PERIOD.parse().unwrap();
        let cache = qiping::service::survey::SurveyContext::new(&crate::common::scenario::secret());
        for token in &tokens[..6] {
            let submission =
                crate::common::scenario::complete(&crate::survey_support::asked_codes());
            qiping::service::response::submit(&mut conn, &cache, token, &submission).unwrap();
        }
        let key = crate::common::keys::key_of(&mut conn, &period);
        let missing = tempfile::tempdir().unwrap().path().join("不存在的目录");
        let close = |conn: &mut qiping::db::Conn, scratch: &std::path::Path| {
            closing::close(
                conn,
                &qiping::service::Actor::cli(),
                &crate::common::scenario::secret(),
                &period,
                Some(&key),
                CloseOptions {
                    memory_bound: 1,
                    scratch_dir: Some(scratch.to_path_buf()),
                    ..Default::default()
                },
            )
        };
        let refused = close(&mut conn, &missing).unwrap_err().to_string();
        assert!(
            refused.contains("不存在的目录") && refused.contains("临时文件"),
            "[{tag}] {refused}"
        );
        assert_eq!(crate::common::keys::ballots(&mut conn), 6, "[{tag}]");
        let ratings: i64 = qiping::db::schema::ratings::table
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(ratings, 0, "[{tag}] ratings stored by a failed close");
        assert_eq!(
            campaign::find(&mut conn, &period).unwrap().state,
            "closing",
            "[{tag}]"
        );
        let scratch = tempfile::tempdir().unwrap();
        let report = close(&mut conn, scratch.path()).unwrap();
        assert_eq!(report.ballots, 6, "[{tag}]");
        assert!(report.scrubbed, "[{tag}]");
        assert_eq!(crate::common::keys::ballots(&mut conn), 0, "[{tag}]");
    });
}

//! Ballot keys for tests that open and close campaigns through the services: the key is kept in
//! this process's memory (as the demo keeps it), found again at the close by the campaign's stored
//! fingerprint. Tests of the key file itself use the CLI or `qiping::ballot::keyfile`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use qiping::ballot::{PrivateKey, keyfile};
use qiping::db::Conn;
use qiping::domain::Period;
use qiping::service::campaign::{self, OpenReport};
use qiping::service::closing::{self, CloseOptions, CloseReport};
use qiping::service::{Actor, ServiceError};

use super::scenario::secret;

/// Key files by the fingerprint of their public key.
fn store() -> std::sync::MutexGuard<'static, HashMap<String, Vec<u8>>> {
    static KEYS: OnceLock<Mutex<HashMap<String, Vec<u8>>>> = OnceLock::new();
    // A test that panicked while holding it left nothing half-written: keep going.
    KEYS.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Opens the campaign of `period` with a new ballot key, kept for [`close`].
pub fn open(conn: &mut Conn, period: &Period) -> Result<OpenReport, ServiceError> {
    let key = PrivateKey::generate().expect("OS randomness");
    // Tests that import no interactions open anyway (every enterprise chooses its units);
    // `campaign.rs` tests the refusal.
    let report = campaign::open(
        conn,
        &Actor::cli(),
        &secret(),
        period,
        &key,
        true,
        |info, key| {
            store().insert(
                key.public_key().fingerprint().hex(),
                keyfile::to_bytes(info, key).to_vec(),
            );
            Ok(())
        },
    )?;
    Ok(report)
}

/// The ballot key of the campaign of `period`, as [`open`] kept it.
pub fn key_of(conn: &mut Conn, period: &Period) -> PrivateKey {
    let row = campaign::find(conn, period).unwrap();
    let public = qiping::ballot::PublicKey::from_bytes(
        row.ballot_public_key
            .as_deref()
            .expect("the campaign has a ballot key"),
    )
    .unwrap();
    let found = store().get(&public.fingerprint().hex()).cloned();
    let bytes = found.expect("the campaign was opened by common::keys::open or remember_file");
    keyfile::from_bytes(&bytes).unwrap().1
}

/// Closes the campaign of `period` with the key [`open`] kept (none for a campaign opened by a
/// release before sealed ballots).
pub fn close(conn: &mut Conn, period: &Period) -> Result<CloseReport, ServiceError> {
    let legacy = campaign::find(conn, period)?.ballot_public_key.is_none();
    let key = (!legacy).then(|| key_of(conn, period));
    closing::close(
        conn,
        &Actor::cli(),
        &secret(),
        period,
        key.as_ref(),
        CloseOptions::default(),
    )
}

/// Runs the upgrade step of `qiping migrate` with the test's link secret, keeping the ballot key
/// of a campaign open during the upgrade as `--ballot-key-out` would write it.
pub fn upgrade(conn: &mut Conn) -> Result<qiping::service::upgrade::UpgradeReport, ServiceError> {
    let keep = |info: &keyfile::KeyFileInfo, key: &PrivateKey| -> Result<(), ServiceError> {
        store().insert(
            key.public_key().fingerprint().hex(),
            keyfile::to_bytes(info, key).to_vec(),
        );
        Ok(())
    };
    qiping::service::upgrade::run(
        conn,
        &Actor::cli(),
        Some(&secret()),
        Some(&keep),
        &qiping::service::upgrade::UpgradeOptions::default(),
    )
}

/// Keeps the key of a key file written by `qiping campaign open --ballot-key-out` (the served
/// tests), for [`peek`] and [`close`].
pub fn remember_file(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap();
    let (_, key) = keyfile::from_bytes(&bytes).unwrap();
    store().insert(key.public_key().fingerprint().hex(), bytes);
}

/// The contents of every stored (sealed) ballot, opened with the kept keys without closing
/// anything: what the tests of the submission path count. Needs the test's link secret to find
/// each ballot's spent key among the campaign's invitations.
pub fn peek(conn: &mut Conn) -> Vec<qiping::ballot::BallotContent> {
    use qiping::db::{ballots, campaigns, invitations};
    let mut opened = Vec::new();
    for row in campaigns::all(conn).unwrap() {
        let stored = ballots::of_campaign(conn, row.id).unwrap();
        if stored.is_empty() {
            continue;
        }
        let period: Period = row.period.parse().unwrap();
        let key = key_of(conn, &period);
        let template = qiping::service::templates::parse_stored(&row.template_toml).unwrap();
        let layout = qiping::service::ballots::layout(&row, &template).unwrap();
        let owners = qiping::service::ballots::spent_key_owners(
            &secret().spent_keys(),
            row.id,
            invitations::of_campaign(conn, row.id)
                .unwrap()
                .iter()
                .map(|i| i.id),
        );
        for ballot in stored {
            let spent = qiping::ballot::SpentKey::from_slice(&ballot.spent_key).unwrap();
            assert!(
                owners.contains_key(&spent),
                "a ballot's spent key names an invitation"
            );
            opened.push(
                qiping::ballot::open(&key, row.id, &spent, &ballot.sealed, &layout)
                    .expect("a stored ballot opens with its campaign's key"),
            );
        }
    }
    opened
}

/// Stores a ballot for an invitation as an answer would (its spent key; the sealed bytes are not
/// read by what the caller tests: reminders, notices, "already answered").
pub fn ballot_for(conn: &mut Conn, invitation: &qiping::db::invitations::InvitationRow) {
    let spent = secret()
        .spent_keys()
        .spent_key(invitation.campaign_id, invitation.id);
    assert!(
        qiping::db::ballots::insert(conn, spent.as_bytes(), invitation.campaign_id, &[0u8; 64])
            .unwrap()
    );
}

/// Number of sealed ballots stored.
pub fn ballots(conn: &mut Conn) -> i64 {
    use diesel::prelude::*;
    qiping::db::schema::ballots::table
        .count()
        .get_result(conn)
        .unwrap()
}

//! Registry import through the service, on SQLite and PostgreSQL: whole files or nothing,
//! idempotent re-import, head changes as new terms, every encoding Excel writes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use crate::common;

use common::{fixture, no_progress, on_each_backend, uscc};
use qiping::db::Conn;
use qiping::service::Actor;
use qiping::service::ServiceError;
use qiping::service::import::{import_enterprises, import_interactions, import_units};
use qiping::service::registry::{list_enterprises, list_units};

fn units(
    conn: &mut Conn,
    bytes: &[u8],
) -> Result<qiping::service::import::ImportReport, ServiceError> {
    import_units(conn, &Actor::cli(), bytes, &mut no_progress())
}

fn enterprises(
    conn: &mut Conn,
    bytes: &[u8],
) -> Result<qiping::service::import::ImportReport, ServiceError> {
    import_enterprises(conn, &Actor::cli(), bytes, &mut no_progress())
}

#[test]
fn a_good_units_file_imports_every_unit_with_its_head() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let report = units(&mut conn, &fixture("import/units_good.csv")).expect("imports");
        assert_eq!((report.rows, report.inserted), (11, 11), "{}", db.backend);
        assert_eq!(report.head_terms_added, 9);
        let listed = list_units(&mut conn).expect("list");
        let office = listed
            .iter()
            .find(|u| u.code == "SWJ-NSFW")
            .expect("office");
        assert_eq!(office.parent_code.as_deref(), Some("SWJ"));
        assert_eq!(office.predecessor_code.as_deref(), Some("SWJ-NSFWK"));
        assert_eq!(
            office.head.as_ref().map(|h| h.name.as_str()),
            Some("赵志刚")
        );
        let without_head = listed.iter().find(|u| u.code == "ZWFW").expect("ZWFW");
        assert!(without_head.head.is_none());
    });
}

#[test]
fn importing_the_same_file_again_changes_nothing() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        units(&mut conn, &fixture("import/units_good.csv")).expect("first");
        enterprises(&mut conn, &fixture("import/enterprises_good.csv")).expect("first");
        let before = (
            list_units(&mut conn).expect("u"),
            list_enterprises(&mut conn).expect("e"),
        );
        let again = units(&mut conn, &fixture("import/units_good.csv")).expect("again");
        assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 11));
        assert_eq!(again.head_terms_added, 0);
        let again = enterprises(&mut conn, &fixture("import/enterprises_good.csv")).expect("again");
        assert_eq!((again.inserted, again.updated), (0, 0));
        let after = (
            list_units(&mut conn).expect("u"),
            list_enterprises(&mut conn).expect("e"),
        );
        assert_eq!(before, after);
    });
}

#[test]
fn a_new_head_closes_the_old_term_instead_of_overwriting_it() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        units(&mut conn, &fixture("import/units_good.csv")).expect("first");
        let changed = String::from_utf8(fixture("import/units_good.csv"))
            .expect("utf8")
            .replace("赵志刚,2019-05-06", "钱学军,2020-03-01");
        let report = units(&mut conn, changed.as_bytes()).expect("second");
        assert_eq!(report.head_terms_added, 1);
        let unit = qiping::db::units::by_code(&mut conn, "SWJ-NSFW")
            .expect("query")
            .expect("unit");
        let terms = qiping::db::units::head_terms(&mut conn, unit.id).expect("terms");
        let shown: Vec<_> = terms
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    t.from_date.to_string(),
                    t.to_date.map(|d| d.to_string()),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "赵志刚",
                    "2019-05-06".to_owned(),
                    Some("2020-02-29".to_owned())
                ),
                ("钱学军", "2020-03-01".to_owned(), None),
            ]
        );
    });
}

#[test]
fn a_head_change_dated_before_the_current_term_fails_the_whole_file() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        units(&mut conn, &fixture("import/units_good.csv")).expect("first");
        let bad = String::from_utf8(fixture("import/units_good.csv"))
            .expect("utf8")
            .replace("赵志刚,2019-05-06", "钱学军,2010-01-01")
            .replace("市发展和改革委员会", "市发展改革委");
        let err = units(&mut conn, bad.as_bytes()).expect_err("refused");
        let ServiceError::Import(errors) = err else {
            panic!("expected row errors, got {err}");
        };
        assert_eq!(errors.errors().len(), 1);
        assert_eq!(errors.errors()[0].line, 8);
        // Nothing of the file landed: the department's rename was not applied either.
        let fgw = qiping::db::units::by_code(&mut conn, "FGW")
            .expect("q")
            .expect("FGW");
        assert_eq!(fgw.name, "市发展和改革委员会");
    });
}

#[test]
fn a_file_with_bad_rows_imports_nothing_and_reports_every_row() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let err = enterprises(&mut conn, &fixture("import/enterprises_bad.csv")).expect_err("bad");
        let ServiceError::Import(errors) = &err else {
            panic!("expected row errors, got {err}");
        };
        let lines: Vec<usize> = errors.errors().iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert!(err.to_string().contains("校验位错误"), "{err}");
        assert_eq!(qiping::db::enterprises::count(&mut conn).expect("count"), 0);

        let err = units(&mut conn, &fixture("import/units_bad.csv")).expect_err("bad");
        assert!(matches!(err, ServiceError::Import(_)));
        assert!(list_units(&mut conn).expect("list").is_empty());
    });
}

#[test]
fn an_unknown_parent_is_reported_with_its_line_and_column() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let file = "code,name,kind,parent_code,peer_group,head_name,head_since\n\
                    GAJ-HZ,户政处,office,GAJ,处室,,\n";
        let err = units(&mut conn, file.as_bytes()).expect_err("unknown parent");
        let message = err.to_string();
        assert!(message.contains("第 2 行"), "{message}");
        assert!(message.contains("parent_code"), "{message}");
        assert!(message.contains("unknown parent"), "{message}");
    });
}

#[test]
fn a_parent_already_in_the_registry_must_be_a_department() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        units(&mut conn, &fixture("import/units_good.csv")).expect("first");
        let file = "code,name,kind,parent_code,peer_group,head_name,head_since\n\
                    X-1,下级科,office,SWJ-NSFW,处室,,\n";
        let err = units(&mut conn, file.as_bytes()).expect_err("office as parent");
        assert!(err.to_string().contains("不是部门"), "{err}");
    });
}

#[test]
fn gbk_and_bom_files_from_excel_are_read() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        let report = enterprises(&mut conn, &fixture("import/enterprises_gbk.csv")).expect("gbk");
        assert_eq!(report.encoding, "GB18030");
        let listed = list_enterprises(&mut conn).expect("list");
        assert_eq!(listed.len(), report.rows);
        assert!(listed.iter().any(|e| e.size == "medium"));
        assert!(listed.iter().all(|e| !e.name.contains('\u{FFFD}')));

        let report = units(&mut conn, &fixture("import/units_bom.csv")).expect("bom");
        assert_eq!(report.encoding, "UTF-8 (BOM)");
        let zjj = qiping::db::units::by_code(&mut conn, "ZJJ-SGXK")
            .expect("q")
            .expect("unit");
        assert_eq!(
            (zjj.kind.as_str(), zjj.peer_group.as_str()),
            ("office", "处室")
        );
    });
}

#[test]
fn interactions_link_known_enterprises_to_known_units_once() {
    on_each_backend(|db| {
        let mut conn = db.conn();
        units(&mut conn, &fixture("import/units_good.csv")).expect("units");
        let file = format!(
            "uscc,name,email,district,industry,size\n\
             {},甲公司,a@example.com,鼓楼区,制造业,small\n\
             {},乙公司,,云龙区,批发和零售业,micro\n",
            uscc(1),
            uscc(2)
        );
        enterprises(&mut conn, file.as_bytes()).expect("enterprises");
        let period = "2019H2".parse().expect("period");
        let pairs = format!(
            "uscc,unit_code\n{a},SWJ\n{a},SWJ-NSFW\n{b},SWJ\n{a},SWJ\n",
            a = uscc(1),
            b = uscc(2)
        );
        let report = import_interactions(
            &mut conn,
            &Actor::cli(),
            &period,
            pairs.as_bytes(),
            &mut no_progress(),
        )
        .expect("interactions");
        assert_eq!(report.inserted, 3);
        let again = import_interactions(
            &mut conn,
            &Actor::cli(),
            &period,
            pairs.as_bytes(),
            &mut no_progress(),
        )
        .expect("again");
        assert_eq!(again.inserted, 0);
        assert_eq!(
            qiping::db::interactions::of_period(&mut conn, "2019H2")
                .expect("q")
                .len(),
            3
        );

        let unknown = format!("uscc,unit_code\n{},NOPE\n{},SWJ\n", uscc(1), uscc(3));
        let err = import_interactions(
            &mut conn,
            &Actor::cli(),
            &period,
            unknown.as_bytes(),
            &mut no_progress(),
        )
        .expect_err("unknown");
        let message = err.to_string();
        assert!(
            message.contains("第 2 行") && message.contains("unknown unit"),
            "{message}"
        );
        assert!(
            message.contains("第 3 行") && message.contains("unknown enterprise"),
            "{message}"
        );
    });
}

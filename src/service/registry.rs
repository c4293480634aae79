//! Reading the registry back: the shapes `units list` and `enterprises list` print.

use serde::Serialize;

use super::ServiceError;
use crate::db::Conn;
use crate::db::{enterprises, units};

/// A unit with its current head.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitListing {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: Option<String>,
    pub peer_group: String,
    pub predecessor_code: Option<String>,
    pub head: Option<HeadListing>,
}

/// A head's running term.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadListing {
    pub name: String,
    pub since: chrono::NaiveDate,
}

/// An enterprise as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnterpriseListing {
    pub uscc: String,
    pub name: String,
    pub email: Option<String>,
    pub district: String,
    pub industry: String,
    pub size: String,
    pub mail_status: String,
}

/// Every unit by code, with the head whose term is running.
pub fn list_units(conn: &mut Conn) -> Result<Vec<UnitListing>, ServiceError> {
    let mut current = std::collections::HashMap::new();
    for term in units::all_head_terms(conn)? {
        if term.to_date.is_none() {
            current.insert(
                term.unit_id,
                HeadListing {
                    name: term.name,
                    since: term.from_date,
                },
            );
        }
    }
    Ok(units::all(conn)?
        .into_iter()
        .map(|u| UnitListing {
            head: current.remove(&u.id),
            code: u.code,
            name: u.name,
            kind: u.kind,
            parent_code: u.parent_code,
            peer_group: u.peer_group,
            predecessor_code: u.predecessor_code,
        })
        .collect())
}

/// Every enterprise by USCC.
pub fn list_enterprises(conn: &mut Conn) -> Result<Vec<EnterpriseListing>, ServiceError> {
    Ok(enterprises::all(conn)?
        .into_iter()
        .map(|e| EnterpriseListing {
            uscc: e.uscc,
            name: e.name,
            email: e.email,
            district: e.district,
            industry: e.industry,
            size: e.size,
            mail_status: e.mail_status,
        })
        .collect())
}

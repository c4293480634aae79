//! The 营商办's registry, browsed a page at a time. (Its changes are the use cases of `campaign`,
//! `outreach`, `import` …, each of which records its own audit row.)

use serde::Serialize;

use super::ServiceError;
use crate::db::enterprises::EnterpriseRow;
use crate::db::units::UnitRow;
use crate::db::{Conn, registry_search};

/// Rows per page when browsing the registry.
pub const PAGE_SIZE: i64 = 50;

/// One page of a registry listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistryPage<T> {
    pub items: Vec<T>,
    /// How many rows match the search in all.
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub pages: i64,
    pub query: String,
}

impl<T> RegistryPage<T> {
    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages
    }
}

fn page_bounds(page: i64) -> (i64, i64) {
    let page = page.max(1);
    (page, (page - 1).saturating_mul(PAGE_SIZE))
}

fn pages(total: i64) -> i64 {
    ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1)
}

/// Units whose code or name contains `query`, page `page` (from 1).
pub fn units_page(
    conn: &mut Conn,
    query: &str,
    page: i64,
) -> Result<RegistryPage<UnitRow>, ServiceError> {
    let query = query.trim();
    let (page, offset) = page_bounds(page);
    let (items, total) = registry_search::units_page(conn, query, PAGE_SIZE, offset)?;
    Ok(RegistryPage {
        items,
        total,
        page,
        pages: pages(total),
        query: query.to_owned(),
    })
}

/// Enterprises whose USCC or name contains `query`, page `page` (from 1).
pub fn enterprises_page(
    conn: &mut Conn,
    query: &str,
    page: i64,
) -> Result<RegistryPage<EnterpriseRow>, ServiceError> {
    let query = query.trim();
    let (page, offset) = page_bounds(page);
    let (items, total) = registry_search::enterprises_page(conn, query, PAGE_SIZE, offset)?;
    Ok(RegistryPage {
        items,
        total,
        page,
        pages: pages(total),
        query: query.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_up_and_there_is_always_one() {
        assert_eq!(pages(0), 1);
        assert_eq!(pages(PAGE_SIZE), 1);
        assert_eq!(pages(PAGE_SIZE + 1), 2);
        assert_eq!(page_bounds(0), (1, 0));
        assert_eq!(page_bounds(3), (3, 2 * PAGE_SIZE));
    }
}

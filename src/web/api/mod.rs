//! The JSON API under `/api/v1/` (INTERFACE.md). Errors are [`crate::web::error::ApiError`].

pub mod flags;

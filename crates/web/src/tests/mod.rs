//! Tests of the rendered portal against the modello Comuni markup checklist
//! (`conformance`) and of the whole router in process over a temporary
//! SQLite store (`http`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;
pub(crate) mod fixture;
mod http;

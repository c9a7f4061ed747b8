//! pagoPA, the national payment platform (`docs/pagopa.md`).
//!
//! - [`gpd`]: the client of GPD (Gestione Posizioni Debitorie), where the
//!   comune publishes its debt positions so that citizens can pay their
//!   notices on any pagoPA channel (DECISIONS 31; `taxes-pagopa.md` §4.5).

pub mod gpd;

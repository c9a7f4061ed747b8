//! Pure domain types and rules of Palazzo. No IO happens in this crate.
//!
//! Every value that crosses a boundary is parsed into one of these types
//! (`parse`, never merely validated); every parse error carries a stable
//! machine code and an Italian message (see [`error::Coded`]).

pub mod access;
pub mod anagrafe;
pub mod appuntamenti;
pub mod calendar;
pub mod cbor;
pub mod certificati;
pub mod checkpoint;
pub mod csv;
pub mod error;
pub mod ids;
pub mod ledger;
pub mod luoghi;
pub mod merkle;
pub mod moduli;
pub mod money;
pub mod pagopa;
pub mod portal;
pub mod procedimento;
pub mod protocollo;
pub mod receipt;
pub mod titolario;
pub mod totp;
pub mod tributi;

pub use error::Coded;

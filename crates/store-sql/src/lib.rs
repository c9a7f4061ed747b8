//! The SQL that the SQLite and PostgreSQL stores share, written once.
//!
//! Both backends speak the same SQL subset (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT DO NOTHING`) over the same columns, so the queries, their
//! binds and the decoding of their rows live here, generic over
//! [`sqlx::Database`]: [`SqlStore`] holds the reads, [`SqlTx`] the writes.
//! Each backend crate wraps them in its own `Store`/`StoreTx` types and
//! describes itself with a [`Dialect`] (the genuine differences: the Rust
//! type of the small rating columns, and how to count the rows an `UPDATE`
//! changed). What differs in kind stays in the backend crate: connection
//! options, migrations, how a write transaction begins (`BEGIN IMMEDIATE` on
//! SQLite), the population bulk insert (row by row on SQLite, `UNNEST` arrays
//! on PostgreSQL) and the SQLite backup.
//!
//! # Why a crate and not a feature of `palazzo-store`
//!
//! `palazzo-store` is the neutral contract that services and web compile
//! against. A `sql` feature there would be switched on by feature
//! unification whenever a backend is in the build, so the SQL module would
//! quietly become reachable from the layers above, which must not write SQL
//! (STYLE.md rule 5), and the contract's API would depend on what else is
//! built. As a crate that only the two backends name, the dependency is
//! explicit in their manifests and `palazzo-store` stays free of sqlx. It
//! adds nothing to the build: `sqlx` (no driver features) and `jiff-sqlx` are
//! already in every build that has a backend.
//!
//! # Bounds
//!
//! The generic code needs every Rust type it binds or reads to be supported
//! by the driver. [`Field`] bundles "binds and decodes" for owned values; the
//! borrowed ones (`&str`, `Option<&str>`, `&[u8]`) are bound through
//! [`Param`]. Each backend meets the bounds with its concrete driver types,
//! so the generic futures are checked for `Send` there, not here.

mod access;
mod anagrafe;
mod api_tokens;
mod appuntamenti;
mod canone;
mod certificati;
mod decisions;
mod emergenza;
mod fascicoli;
mod mail;
mod pratiche;
mod protocollo;
mod registro;
mod segnatura;
mod store;
mod tari;
mod tributi;
mod tx;
mod versions;

pub use store::SqlStore;
pub use tx::SqlTx;

use palazzo_store::StoreError;
use sqlx::{Database, Decode, Encode, Type};

/// What a backend crate tells the shared SQL about its database.
///
/// Implemented by a marker type in each backend crate (a type of its own,
/// so the impl is allowed there by the orphan rule).
pub trait Dialect: 'static {
    /// The sqlx driver.
    type Db: Database;
    /// The Rust type of the small integer columns `ratings.stars` and
    /// `ratings.answer`: `i16` for PostgreSQL's `SMALLINT`, `i64` for
    /// SQLite's `INTEGER`.
    type SmallInt: From<u8> + Into<i64> + Field<Self::Db>;

    /// The number of rows a statement changed (sqlx offers this only on each
    /// driver's own result type).
    fn rows_affected(result: &<Self::Db as Database>::QueryResult) -> u64;

    /// An SQL expression that orders like the instant held by timestamp
    /// `expr` (a column or a bound parameter). PostgreSQL compares
    /// `TIMESTAMPTZ` directly; SQLite stores RFC 3339 text whose fraction
    /// has a variable number of digits, so text order is not time order
    /// there and the backend converts.
    fn instant(expr: &str) -> String {
        expr.to_owned()
    }

    /// What follows a `SELECT` whose rows a worker claims, so that
    /// concurrent claimers skip each other's rows: `FOR UPDATE SKIP LOCKED`
    /// on PostgreSQL; nothing on SQLite, whose single writer already makes
    /// an `UPDATE … RETURNING` claim atomic.
    fn skip_locked() -> &'static str {
        ""
    }
}

/// A value that `DB` can bind as a parameter, for the lifetime `'q` of the
/// borrow. Used in bounds as `for<'a> &'a str: Param<'a, DB>`.
pub trait Param<'q, DB: Database>: Encode<'q, DB> + Type<DB> {}

impl<'q, DB: Database, T: Encode<'q, DB> + Type<DB>> Param<'q, DB> for T {}

/// An owned Rust type that `DB` both binds as a parameter and decodes from a
/// column.
pub trait Field<DB: Database>: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> {}

impl<DB, T> Field<DB> for T
where
    DB: Database,
    T: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
{
}

/// Maps a sqlx error to the store's: a missing row is [`StoreError::NotFound`],
/// a unique violation [`StoreError::Conflict`] (naming the constraint as the
/// database reports it), anything else [`StoreError::Database`].
pub fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        other => StoreError::Database(other.to_string()),
    }
}

/// The driver of a dialect.
type Db<D> = <D as Dialect>::Db;
/// A connection of a dialect's driver.
type Conn<D> = <Db<D> as Database>::Connection;
/// A row of a dialect's driver.
type DbRow<D> = <Db<D> as Database>::Row;
/// The bound arguments of a dialect's driver.
type Args<D> = <Db<D> as Database>::Arguments;

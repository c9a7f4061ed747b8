//! The ledger leaf (DECISIONS 11): one leaf per legally relevant event,
//! encoded in deterministic CBOR (RFC 8949 §4.2.1) and hashed into the
//! tenant's RFC 6962 Merkle tree (see [`crate::merkle`]).
//!
//! A leaf is the CBOR map
//!
//! | key       | CBOR type | content                                                   |
//! |-----------|-----------|-----------------------------------------------------------|
//! | `tenant`  | text      | the tenant slug, e.g. `casamassima`                       |
//! | `seq`     | uint      | the 0-based leaf index in the tenant's tree               |
//! | `time`    | text      | `YYYY-MM-DDTHH:MM:SS.ffffffZ` (see [`format_time`])       |
//! | `kind`    | text      | the event kind, e.g. `service.updated`                    |
//! | `subject` | text      | the subject id, e.g. `service:12`                         |
//! | `state`   | bstr (32) | SHA-256 of the record's state after the event ([`state_hash`]) |
//!
//! encoded with its keys in deterministic order (`seq`, `kind`, `time`,
//! `state`, `tenant`, `subject`: shorter keys first because the length is in
//! the CBOR head). The Merkle leaf hash is `SHA-256(0x00 ‖ leaf bytes)`.
//! `docs/ledger-format.md` has a worked example that the tests check.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use crate::Coded;
use crate::cbor::{self, CborError, Value};
use crate::merkle::{self, Hash};

/// The `state` of a record that has been deleted: SHA-256 of the CBOR
/// encoding of `null` (the single byte `0xf6`) =
/// `b0b2988b6bbe724bacda5e9e524736de0bc7dae41c46b4213c50e1d35d4e5f13`.
///
/// No record state can collide with it, because [`state_hash`] always
/// hashes a CBOR map (first byte `0xa0`–`0xbb`), never `null`.
pub const DELETED_STATE_HASH: Hash = [
    0xb0, 0xb2, 0x98, 0x8b, 0x6b, 0xbe, 0x72, 0x4b, 0xac, 0xda, 0x5e, 0x9e, 0x52, 0x47, 0x36, 0xde,
    0x0b, 0xc7, 0xda, 0xe4, 0x1c, 0x46, 0xb4, 0x21, 0x3c, 0x50, 0xe1, 0xd3, 0x5d, 0x4e, 0x5f, 0x13,
];

/// The hash that binds a record's stored state to its last ledger event:
/// SHA-256 of the deterministic CBOR map `{field name: value, …}` of the
/// record's canonical fields (RFC 8949 §4.2.1, so the order of `fields`
/// does not matter).
///
/// Which fields are canonical is decided per record type by the code that
/// writes it; `palazzo verify` recomputes this hash from the stored row and
/// compares it with the `state` of the record's last leaf. A deleted record
/// uses [`DELETED_STATE_HASH`].
///
/// # Errors
/// [`CborError::DuplicateKey`] when two fields have the same name (at any
/// depth of the values).
pub fn state_hash(fields: &[(&str, Value)]) -> Result<Hash, CborError> {
    let map = Value::Map(
        fields
            .iter()
            .map(|(name, value)| (Value::text(*name), value.clone()))
            .collect(),
    );
    Ok(Sha256::digest(cbor::encode(&map)?).into())
}

/// Why a ledger entry could not be built or a leaf could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A text field is empty.
    #[error("ledger field `{field}` is empty")]
    EmptyField {
        /// The field name.
        field: &'static str,
    },
    /// The time is before 0000-01-01T00:00:00Z (RFC 3339 has four-digit years).
    #[error("ledger time out of the RFC 3339 range")]
    TimeOutOfRange,
    /// A time string is not exactly `YYYY-MM-DDTHH:MM:SS.ffffffZ` or is not a
    /// real instant.
    #[error("invalid ledger time `{0}`")]
    InvalidTime(String),
    /// The leaf is not deterministic CBOR.
    #[error("leaf is not deterministic CBOR: {0}")]
    Cbor(#[from] CborError),
    /// The leaf is not a CBOR map.
    #[error("leaf is not a CBOR map")]
    NotAMap,
    /// A field is missing from the leaf.
    #[error("leaf field `{field}` is missing")]
    MissingField {
        /// The field name.
        field: &'static str,
    },
    /// The leaf has a key that is not one of the six fields.
    #[error("leaf has an unexpected field")]
    UnexpectedField,
    /// A field has the wrong CBOR type.
    #[error("leaf field `{field}` has the wrong type")]
    WrongType {
        /// The field name.
        field: &'static str,
    },
    /// `state` is not exactly 32 bytes.
    #[error("leaf field `state` is not 32 bytes")]
    StateHashLength,
    /// The leaf decodes but does not re-encode to the same bytes.
    #[error("leaf is not in canonical form")]
    NonCanonical,
}

impl Coded for LedgerError {
    fn code(&self) -> &'static str {
        match self {
            LedgerError::EmptyField { .. } => "ledger_empty_field",
            LedgerError::TimeOutOfRange => "ledger_time_out_of_range",
            LedgerError::InvalidTime(_) => "ledger_invalid_time",
            LedgerError::Cbor(inner) => inner.code(),
            LedgerError::NotAMap => "ledger_not_a_map",
            LedgerError::MissingField { .. } => "ledger_missing_field",
            LedgerError::UnexpectedField => "ledger_unexpected_field",
            LedgerError::WrongType { .. } => "ledger_wrong_type",
            LedgerError::StateHashLength => "ledger_state_hash_length",
            LedgerError::NonCanonical => "ledger_non_canonical",
        }
    }

    fn message_it(&self) -> String {
        match self {
            LedgerError::EmptyField { field } => {
                format!("Il campo «{field}» della voce di registro è vuoto")
            }
            LedgerError::TimeOutOfRange => {
                "L'orario della voce di registro è fuori dall'intervallo ammesso".to_owned()
            }
            LedgerError::InvalidTime(text) => format!(
                "L'orario «{text}» non è nel formato AAAA-MM-GGThh:mm:ss.ffffffZ o non è una data valida"
            ),
            LedgerError::Cbor(inner) => format!(
                "La voce di registro non è codificata correttamente: {}",
                inner.message_it()
            ),
            LedgerError::NotAMap => "La voce di registro non è una mappa CBOR".to_owned(),
            LedgerError::MissingField { field } => {
                format!("Nella voce di registro manca il campo «{field}»")
            }
            LedgerError::UnexpectedField => {
                "La voce di registro contiene un campo non previsto".to_owned()
            }
            LedgerError::WrongType { field } => {
                format!("Il campo «{field}» della voce di registro ha un tipo errato")
            }
            LedgerError::StateHashLength => "L'impronta dello stato non è lunga 32 byte".to_owned(),
            LedgerError::NonCanonical => "La voce di registro non è in forma canonica".to_owned(),
        }
    }
}

/// `ts` floored to a whole microsecond (toward the past, also before
/// 1970), the precision of ledger and checkpoint times.
///
/// # Errors
/// [`LedgerError::TimeOutOfRange`] before 0000-01-01T00:00:00Z.
pub fn canonical_time(ts: Timestamp) -> Result<Timestamp, LedgerError> {
    // The nanoseconds past the last whole microsecond, in 0..1000.
    let excess = i64::try_from(ts.as_nanosecond().rem_euclid(1000))
        .map_err(|_| LedgerError::TimeOutOfRange)?;
    let floored = ts
        .checked_sub(jiff::SignedDuration::from_nanos(excess))
        .map_err(|_| LedgerError::TimeOutOfRange)?;
    if TimeZone::UTC.to_datetime(floored).year() < 0 {
        return Err(LedgerError::TimeOutOfRange);
    }
    Ok(floored)
}

/// Formats an instant as RFC 3339 (§5.6) in UTC with **exactly six
/// fractional digits** and an upper-case `Z`: `YYYY-MM-DDTHH:MM:SS.ffffffZ`,
/// always 27 ASCII characters, e.g. `2026-03-02T09:15:30.123456Z`. The
/// instant is first floored to the microsecond ([`canonical_time`]).
///
/// This is the one text form of times in ledger leaves and checkpoints:
/// one instant has exactly one representation.
///
/// # Errors
/// [`LedgerError::TimeOutOfRange`] before year 0.
pub fn format_time(ts: Timestamp) -> Result<String, LedgerError> {
    Ok(format_canonical(canonical_time(ts)?))
}

/// Formats a timestamp already made canonical by [`canonical_time`].
fn format_canonical(ts: Timestamp) -> String {
    let dt = TimeZone::UTC.to_datetime(ts);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1000
    )
}

/// Parses exactly the form produced by [`format_time`]; anything else
/// (other precision, lower-case `t`/`z`, offsets, leap seconds, impossible
/// dates) is an error.
///
/// # Errors
/// [`LedgerError::InvalidTime`].
pub fn parse_time(text: &str) -> Result<Timestamp, LedgerError> {
    let invalid = || LedgerError::InvalidTime(text.to_owned());
    let b = text.as_bytes();
    if b.len() != 27 {
        return Err(invalid());
    }
    // Layout: YYYY-MM-DDTHH:MM:SS.ffffffZ
    for (i, &c) in b.iter().enumerate() {
        let ok = match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            26 => c == b'Z',
            _ => c.is_ascii_digit(),
        };
        if !ok {
            return Err(invalid());
        }
    }
    let num = |range: std::ops::Range<usize>| -> Result<i32, LedgerError> {
        b.get(range)
            .ok_or_else(invalid)?
            .iter()
            .try_fold(0i32, |acc, d| {
                acc.checked_mul(10)?.checked_add(i32::from(d - b'0'))
            })
            .ok_or_else(invalid)
    };
    let small = |v: i32| i8::try_from(v).map_err(|_| invalid());
    let year = i16::try_from(num(0..4)?).map_err(|_| invalid())?;
    let dt = DateTime::new(
        year,
        small(num(5..7)?)?,
        small(num(8..10)?)?,
        small(num(11..13)?)?,
        small(num(14..16)?)?,
        small(num(17..19)?)?,
        num(20..26)? * 1000,
    )
    .map_err(|_| invalid())?;
    let ts = TimeZone::UTC.to_timestamp(dt).map_err(|_| invalid())?;
    // Belt and braces: the text must be the canonical form of the instant.
    if format_canonical(ts) != text {
        return Err(invalid());
    }
    Ok(ts)
}

/// One ledger event (DECISIONS 11). Build it with [`LedgerEntry::new`],
/// which validates the fields and floors the time to the microsecond, so
/// [`LedgerEntry::to_leaf_bytes`] is total and
/// `from_leaf_bytes(to_leaf_bytes(e)) == e`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    tenant: String,
    seq: u64,
    time: Timestamp,
    kind: String,
    subject: String,
    state_hash: Hash,
}

// CBOR map keys of a leaf.
const K_TENANT: &str = "tenant";
const K_SEQ: &str = "seq";
const K_TIME: &str = "time";
const K_KIND: &str = "kind";
const K_SUBJECT: &str = "subject";
const K_STATE: &str = "state";

impl LedgerEntry {
    /// A ledger entry.
    ///
    /// `time` is floored to the microsecond (what the leaf records); read it
    /// back with [`LedgerEntry::time`] to store the same value.
    ///
    /// # Errors
    /// [`LedgerError::EmptyField`] for an empty `tenant`, `kind` or
    /// `subject`; [`LedgerError::TimeOutOfRange`] before year 0.
    pub fn new(
        tenant: impl Into<String>,
        seq: u64,
        time: Timestamp,
        kind: impl Into<String>,
        subject: impl Into<String>,
        state_hash: Hash,
    ) -> Result<Self, LedgerError> {
        let tenant = tenant.into();
        let kind = kind.into();
        let subject = subject.into();
        for (field, value) in [(K_TENANT, &tenant), (K_KIND, &kind), (K_SUBJECT, &subject)] {
            if value.is_empty() {
                return Err(LedgerError::EmptyField { field });
            }
        }
        Ok(Self {
            tenant,
            seq,
            time: canonical_time(time)?,
            kind,
            subject,
            state_hash,
        })
    }

    /// The tenant slug.
    #[must_use]
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The 0-based leaf index in the tenant's tree.
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The event time, a whole number of microseconds.
    #[must_use]
    pub fn time(&self) -> Timestamp {
        self.time
    }

    /// The event kind, e.g. `service.updated`.
    #[must_use]
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The subject id, e.g. `service:12`.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// SHA-256 of the record's state after the event ([`state_hash`] or
    /// [`DELETED_STATE_HASH`]).
    #[must_use]
    pub fn state_hash(&self) -> &Hash {
        &self.state_hash
    }

    /// The leaf as a CBOR map (see the module documentation).
    #[must_use]
    pub fn to_cbor(&self) -> Value {
        Value::Map(vec![
            (Value::text(K_TENANT), Value::text(self.tenant.clone())),
            (Value::text(K_SEQ), Value::Unsigned(self.seq)),
            (
                Value::text(K_TIME),
                Value::text(format_canonical(self.time)),
            ),
            (Value::text(K_KIND), Value::text(self.kind.clone())),
            (Value::text(K_SUBJECT), Value::text(self.subject.clone())),
            (Value::text(K_STATE), Value::bytes(self.state_hash.to_vec())),
        ])
    }

    /// The leaf bytes: the deterministic CBOR encoding (RFC 8949 §4.2.1) of
    /// [`LedgerEntry::to_cbor`].
    #[must_use]
    pub fn to_leaf_bytes(&self) -> Vec<u8> {
        // Encoding only fails on duplicate map keys; the six keys are
        // distinct constants (pinned by the known-answer test).
        cbor::encode(&self.to_cbor()).unwrap_or_default()
    }

    /// The Merkle leaf hash: `SHA-256(0x00 ‖ leaf bytes)` (RFC 6962 §2.1).
    #[must_use]
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.to_leaf_bytes())
    }

    /// Parses leaf bytes strictly: deterministic CBOR, a map with exactly
    /// the six fields and their types, a canonical time, a 32-byte state.
    ///
    /// # Errors
    /// Any [`LedgerError`].
    pub fn from_leaf_bytes(bytes: &[u8]) -> Result<Self, LedgerError> {
        let value = cbor::decode(bytes)?;
        let map = value.as_map().ok_or(LedgerError::NotAMap)?;
        let mut tenant = None;
        let mut seq = None;
        let mut time = None;
        let mut kind = None;
        let mut subject = None;
        let mut state = None;
        for (key, value) in map {
            // Keys are unique (the strict decoder rejects duplicates).
            match key.as_text() {
                Some(K_TENANT) => tenant = Some(text_field(value, K_TENANT)?),
                Some(K_SEQ) => {
                    seq = Some(
                        value
                            .as_u64()
                            .ok_or(LedgerError::WrongType { field: K_SEQ })?,
                    )
                }
                Some(K_TIME) => time = Some(parse_time(text_field(value, K_TIME)?)?),
                Some(K_KIND) => kind = Some(text_field(value, K_KIND)?),
                Some(K_SUBJECT) => subject = Some(text_field(value, K_SUBJECT)?),
                Some(K_STATE) => {
                    let bytes = value
                        .as_bytes()
                        .ok_or(LedgerError::WrongType { field: K_STATE })?;
                    state = Some(Hash::try_from(bytes).map_err(|_| LedgerError::StateHashLength)?);
                }
                _ => return Err(LedgerError::UnexpectedField),
            }
        }
        let entry = LedgerEntry::new(
            tenant.ok_or(LedgerError::MissingField { field: K_TENANT })?,
            seq.ok_or(LedgerError::MissingField { field: K_SEQ })?,
            time.ok_or(LedgerError::MissingField { field: K_TIME })?,
            kind.ok_or(LedgerError::MissingField { field: K_KIND })?,
            subject.ok_or(LedgerError::MissingField { field: K_SUBJECT })?,
            state.ok_or(LedgerError::MissingField { field: K_STATE })?,
        )?;
        if entry.to_leaf_bytes() != bytes {
            return Err(LedgerError::NonCanonical);
        }
        Ok(entry)
    }
}

fn text_field<'a>(value: &'a Value, field: &'static str) -> Result<&'a str, LedgerError> {
    value.as_text().ok_or(LedgerError::WrongType { field })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// CBOR text string with a length below 24 (one-byte head).
    fn tstr(s: &str) -> Vec<u8> {
        let mut v = vec![0x60 | u8::try_from(s.len()).unwrap()];
        assert!(s.len() < 24);
        v.extend_from_slice(s.as_bytes());
        v
    }

    /// The state of the worked example: {"id": 12, "name": "Anagrafe"}.
    fn example_state() -> Hash {
        state_hash(&[
            ("name", Value::text("Anagrafe")),
            ("id", Value::Unsigned(12)),
        ])
        .unwrap()
    }

    fn example_entry() -> LedgerEntry {
        let time: Timestamp = "2026-03-02T09:15:30.123456789Z".parse().unwrap();
        LedgerEntry::new(
            "casamassima",
            41,
            time,
            "service.updated",
            "service:12",
            example_state(),
        )
        .unwrap()
    }

    /// The worked example of docs/ledger-format.md, built by hand.
    #[test]
    fn known_answer_leaf() {
        // State: a2 | 62 "id" 0c | 64 "name" 68 "Anagrafe".
        let mut state_cbor = vec![0xa2];
        state_cbor.extend(tstr("id"));
        state_cbor.push(0x0c);
        state_cbor.extend(tstr("name"));
        state_cbor.extend(tstr("Anagrafe"));
        assert_eq!(hex(&state_cbor), "a26269640c646e616d6568416e616772616665");
        let state: Hash = Sha256::digest(&state_cbor).into();
        assert_eq!(example_state(), state);
        assert_eq!(
            hex(&state),
            "c2ec1600d801c8082e74537e290fd7535544c7d5a92c40253f539b3b3ac708bc"
        );

        // Leaf: a6, keys in deterministic order seq, kind, time, state, tenant, subject.
        let mut leaf = vec![0xa6];
        leaf.extend(tstr("seq"));
        leaf.extend([0x18, 41]);
        leaf.extend(tstr("kind"));
        leaf.extend(tstr("service.updated"));
        leaf.extend(tstr("time"));
        leaf.extend([0x78, 27]); // text, 1-byte length 27
        leaf.extend_from_slice(b"2026-03-02T09:15:30.123456Z");
        leaf.extend(tstr("state"));
        leaf.extend([0x58, 32]); // bytes, 1-byte length 32
        leaf.extend_from_slice(&state);
        leaf.extend(tstr("tenant"));
        leaf.extend(tstr("casamassima"));
        leaf.extend(tstr("subject"));
        leaf.extend(tstr("service:12"));

        let entry = example_entry();
        assert_eq!(entry.to_leaf_bytes(), leaf);
        assert_eq!(
            hex(&leaf),
            "a6637365711829646b696e646f736572766963652e757064617465646474696d65781b323032362d30332d3032\
             5430393a31353a33302e3132333435365a6573746174655820c2ec1600d801c8082e74537e290fd7535544c7d5\
             a92c40253f539b3b3ac708bc6674656e616e746b636173616d617373696d61677375626a6563746a7365727669\
             63653a3132"
        );
        let mut prefixed = vec![0x00];
        prefixed.extend_from_slice(&leaf);
        let expected_hash: Hash = Sha256::digest(&prefixed).into();
        assert_eq!(entry.leaf_hash(), expected_hash);
        assert_eq!(
            hex(&entry.leaf_hash()),
            "059dcf6049c3d87d204b7f1b8118626eb12e53ae58c7a946384a52a5218ab179"
        );
    }

    #[test]
    fn round_trip_and_time_truncation() {
        let entry = example_entry();
        // The nanoseconds (…789) were floored away.
        assert_eq!(entry.time().subsec_nanosecond(), 123_456_000);
        assert_eq!(
            LedgerEntry::from_leaf_bytes(&entry.to_leaf_bytes()).unwrap(),
            entry
        );
        let deleted = LedgerEntry::new(
            "t",
            u64::MAX,
            Timestamp::UNIX_EPOCH,
            "service.deleted",
            "service:12",
            DELETED_STATE_HASH,
        )
        .unwrap();
        assert_eq!(
            LedgerEntry::from_leaf_bytes(&deleted.to_leaf_bytes()).unwrap(),
            deleted
        );
    }

    #[test]
    fn any_field_change_changes_the_leaf_hash() {
        let e = example_entry();
        let base = e.leaf_hash();
        let mut other_state = *e.state_hash();
        other_state[31] ^= 1;
        let variants = [
            LedgerEntry::new(
                "casamassimo",
                e.seq(),
                e.time(),
                e.kind(),
                e.subject(),
                *e.state_hash(),
            ),
            LedgerEntry::new(
                e.tenant(),
                42,
                e.time(),
                e.kind(),
                e.subject(),
                *e.state_hash(),
            ),
            LedgerEntry::new(
                e.tenant(),
                e.seq(),
                e.time()
                    .checked_add(jiff::SignedDuration::from_micros(1))
                    .unwrap(),
                e.kind(),
                e.subject(),
                *e.state_hash(),
            ),
            LedgerEntry::new(
                e.tenant(),
                e.seq(),
                e.time(),
                "service.created",
                e.subject(),
                *e.state_hash(),
            ),
            LedgerEntry::new(
                e.tenant(),
                e.seq(),
                e.time(),
                e.kind(),
                "service:13",
                *e.state_hash(),
            ),
            LedgerEntry::new(
                e.tenant(),
                e.seq(),
                e.time(),
                e.kind(),
                e.subject(),
                other_state,
            ),
        ];
        for v in variants {
            let v = v.unwrap();
            assert_ne!(v.leaf_hash(), base, "{v:?}");
        }
    }

    #[test]
    fn state_hash_rules() {
        // Field order does not matter; values and names do.
        let a = state_hash(&[
            ("id", Value::Unsigned(12)),
            ("name", Value::text("Anagrafe")),
        ])
        .unwrap();
        assert_eq!(a, example_state());
        let b = state_hash(&[
            ("id", Value::Unsigned(13)),
            ("name", Value::text("Anagrafe")),
        ])
        .unwrap();
        assert_ne!(a, b);
        assert_eq!(
            state_hash(&[("id", Value::Unsigned(1)), ("id", Value::Unsigned(2))]),
            Err(CborError::DuplicateKey)
        );
        let deleted: Hash = Sha256::digest([0xf6]).into();
        assert_eq!(DELETED_STATE_HASH, deleted);
        assert_eq!(
            DELETED_STATE_HASH,
            Sha256::digest(cbor::encode(&Value::Null).unwrap()).as_slice()
        );
        assert_ne!(state_hash(&[]).unwrap(), DELETED_STATE_HASH);
    }

    #[test]
    fn time_format_is_exact() {
        let ts: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(format_time(ts).unwrap(), "2026-01-01T00:00:00.000000Z");
        assert_eq!(parse_time("2026-01-01T00:00:00.000000Z").unwrap(), ts);
        let before_epoch: Timestamp = "1969-12-31T23:59:59.9999999Z".parse().unwrap();
        assert_eq!(
            format_time(before_epoch).unwrap(),
            "1969-12-31T23:59:59.999999Z"
        );
        let earliest: Timestamp = "0000-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            format_time(earliest).unwrap(),
            "0000-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            format_time(
                earliest
                    .checked_sub(jiff::SignedDuration::from_nanos(1))
                    .unwrap()
            ),
            Err(LedgerError::TimeOutOfRange)
        );
        // jiff's maximum instant (9999-12-31T23:59:59.999999999 at offset +25:59:59).
        assert_eq!(
            format_time(Timestamp::MAX).unwrap(),
            "9999-12-30T22:00:00.999999Z"
        );
        for bad in [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.000Z",
            "2026-01-01T00:00:00.0000000Z",
            "2026-01-01t00:00:00.000000Z",
            "2026-01-01T00:00:00.000000z",
            "2026-01-01T00:00:00.000000+00:00",
            "2026-02-30T00:00:00.000000Z",
            "2026-01-01T24:00:00.000000Z",
            "2026-06-30T23:59:60.000000Z",
            "2026-1-01T00:00:00.0000000Z",
            "+026-01-01T00:00:00.000000Z",
            "2026-01-01 00:00:00.000000Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    type Entries = Vec<(Value, Value)>;

    #[test]
    fn strict_leaf_decoding() {
        let e = example_entry();
        let good = e.to_cbor();
        let with = |f: &dyn Fn(&mut Entries)| {
            let mut m = good.as_map().unwrap().to_vec();
            f(&mut m);
            cbor::encode(&Value::Map(m)).unwrap()
        };
        let set = |key: &'static str, v: Value| {
            with(&move |m: &mut Entries| {
                for entry in m.iter_mut() {
                    if entry.0.as_text() == Some(key) {
                        entry.1 = v.clone();
                    }
                }
            })
        };
        let err = |bytes: Vec<u8>| LedgerEntry::from_leaf_bytes(&bytes).unwrap_err();
        assert_eq!(
            err(with(&|m| m.push((Value::text("extra"), Value::Null)))),
            LedgerError::UnexpectedField
        );
        assert_eq!(
            err(with(&|m| m.retain(|(k, _)| k.as_text() != Some("kind")))),
            LedgerError::MissingField { field: "kind" }
        );
        assert_eq!(
            err(set("seq", Value::int(-1))),
            LedgerError::WrongType { field: "seq" }
        );
        assert_eq!(
            err(set("tenant", Value::bytes(b"x".to_vec()))),
            LedgerError::WrongType { field: "tenant" }
        );
        assert_eq!(
            err(set("state", Value::bytes(vec![0; 31]))),
            LedgerError::StateHashLength
        );
        assert_eq!(
            err(set("state", Value::text("x"))),
            LedgerError::WrongType { field: "state" }
        );
        assert_eq!(
            err(set("subject", Value::text(""))),
            LedgerError::EmptyField { field: "subject" }
        );
        assert!(matches!(
            err(set("time", Value::text("2026-03-02T09:15:30Z"))),
            LedgerError::InvalidTime(_)
        ));
        assert_eq!(
            err(cbor::encode(&Value::Array(vec![])).unwrap()),
            LedgerError::NotAMap
        );
        // Not deterministic: trailing byte, and the same map with two keys swapped.
        let mut trailing = e.to_leaf_bytes();
        trailing.push(0);
        assert!(matches!(
            err(trailing),
            LedgerError::Cbor(CborError::TrailingBytes { .. })
        ));
        let bytes = e.to_leaf_bytes();
        // Swap "seq" entry (bytes 1..7) with the "kind" entry (7..28).
        let mut swapped = vec![bytes[0]];
        swapped.extend_from_slice(&bytes[7..28]);
        swapped.extend_from_slice(&bytes[1..7]);
        swapped.extend_from_slice(&bytes[28..]);
        let e2 = err(swapped);
        assert!(
            matches!(e2, LedgerError::Cbor(CborError::UnsortedKeys { .. })),
            "{e2:?}"
        );
        assert_eq!(e2.code(), "cbor_unsorted_keys");
        assert!(
            LedgerError::MissingField { field: "seq" }
                .message_it()
                .contains("seq")
        );
    }

    #[test]
    fn constructor_validates() {
        let t = Timestamp::UNIX_EPOCH;
        assert_eq!(
            LedgerEntry::new("", 0, t, "k", "s", [0; 32]),
            Err(LedgerError::EmptyField { field: "tenant" })
        );
        assert_eq!(
            LedgerEntry::new("t", 0, t, "", "s", [0; 32]),
            Err(LedgerError::EmptyField { field: "kind" })
        );
        assert_eq!(
            LedgerEntry::new("t", 0, t, "k", "", [0; 32]),
            Err(LedgerError::EmptyField { field: "subject" })
        );
        assert_eq!(
            LedgerEntry::new("t", 0, Timestamp::MIN, "k", "s", [0; 32]),
            Err(LedgerError::TimeOutOfRange)
        );
    }
}

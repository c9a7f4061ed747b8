//! The proof bundle of a ricevuta di protocollo (DECISIONS 13) and its
//! offline verification. `docs/receipt-format.md` is the specification;
//! its test vectors are checked by the tests of this module.
//!
//! A bundle is the deterministic CBOR (RFC 8949 §4.2.1) map
//!
//! | key          | type        | content |
//! |--------------|-------------|---------|
//! | `format`     | text        | `palazzo-ricevuta/1` |
//! | `leaf`       | bstr        | the ledger leaf bytes of the event (DECISIONS 11) |
//! | `index`      | uint        | the leaf index (= the leaf's `seq`) |
//! | `tree_size`  | uint        | the size of the tree the checkpoint signs |
//! | `proof`      | [bstr(32)]  | the RFC 6962 §2.1.1 inclusion proof, leaf to root |
//! | `checkpoint` | text        | the C2SP signed note of the checkpoint |
//! | `key_name`   | text        | the name of the key that signed it (its origin) |
//! | `key_id`     | bstr(4)     | the C2SP key id of that key |
//! | `state`      | bstr        | deterministic CBOR of the recorded state of the registration |
//!
//! No other key is allowed; the bundle must re-encode to the same bytes.

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use crate::Coded;
use crate::cbor::{self, CborError, Value};
use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::ledger::{LedgerEntry, LedgerError};
use crate::merkle::{self, Hash, ProofError};

/// The value of the `format` key.
pub const FORMAT: &str = "palazzo-ricevuta/1";

/// The file name of the bundle inside the receipt PDF.
pub const FILE_NAME: &str = "ricevuta.cbor";

/// The media type of the bundle.
pub const MEDIA_TYPE: &str = "application/cbor";

/// The event kinds a receipt may prove: the registration itself, or (when
/// the registration's modifiable fields changed before the receipt was
/// issued) the registration's latest event, whose state holds the same
/// fixed fields.
pub const KINDS: [&str; 3] = [
    "protocollo.registered",
    "protocollo.reassigned",
    "protocollo.annulled",
];

/// The subject prefix of registrations in the ledger.
pub const SUBJECT_PREFIX: &str = "protocollo:";

/// The proof bundle embedded in a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Leaf bytes of the ledger event.
    pub leaf: Vec<u8>,
    /// Leaf index.
    pub index: u64,
    /// Tree size signed by the checkpoint.
    pub tree_size: u64,
    /// Inclusion proof, bottom-up.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
    /// Name of the signing key.
    pub key_name: String,
    /// C2SP key id of the signing key.
    pub key_id: [u8; 4],
    /// Deterministic CBOR of the recorded state.
    pub state: Vec<u8>,
}

/// Why a receipt does not verify. Every variant means "invalid" (exit 2 of
/// `palazzo verify-receipt`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The bundle is not deterministic CBOR.
    #[error("bundle is not deterministic CBOR: {0}")]
    Cbor(#[from] CborError),
    /// The bundle is not a map with exactly the expected keys and types.
    #[error("bundle field `{0}` is missing or has the wrong type")]
    Field(&'static str),
    /// The bundle has a key that is not in the format.
    #[error("bundle has an unexpected field")]
    UnexpectedField,
    /// `format` is not [`FORMAT`].
    #[error("unknown bundle format")]
    Format,
    /// The leaf is not a valid ledger leaf.
    #[error("leaf: {0}")]
    Leaf(#[from] LedgerError),
    /// The leaf's `seq` is not the bundle's `index`.
    #[error("leaf seq does not match the index")]
    IndexMismatch,
    /// The leaf does not record a protocol registration.
    #[error("the leaf does not record a protocol registration")]
    WrongEvent,
    /// SHA-256 of the state is not the leaf's `state`.
    #[error("the state does not match the leaf's state hash")]
    StateMismatch,
    /// The state is not a registration state.
    #[error("state field `{0}` is missing or has the wrong type")]
    StateField(&'static str),
    /// No trusted key has the bundle's key name and id.
    #[error("no trusted key named `{0}` with the receipt's key id")]
    UntrustedKey(String),
    /// The checkpoint signature does not verify.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The checkpoint is for another tenant than the leaf.
    #[error("the checkpoint is for another ente than the leaf")]
    TenantMismatch,
    /// The checkpoint's size is not the bundle's `tree_size`.
    #[error("checkpoint size does not match the tree size")]
    SizeMismatch,
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("inclusion proof: {0}")]
    Proof(#[from] ProofError),
}

impl Coded for ReceiptError {
    fn code(&self) -> &'static str {
        match self {
            ReceiptError::Cbor(_) => "receipt_bundle_cbor",
            ReceiptError::Field(_) => "receipt_bundle_field",
            ReceiptError::UnexpectedField => "receipt_bundle_unexpected_field",
            ReceiptError::Format => "receipt_bundle_format",
            ReceiptError::Leaf(_) => "receipt_leaf_invalid",
            ReceiptError::IndexMismatch => "receipt_index_mismatch",
            ReceiptError::WrongEvent => "receipt_wrong_event",
            ReceiptError::StateMismatch => "receipt_state_mismatch",
            ReceiptError::StateField(_) => "receipt_state_field",
            ReceiptError::UntrustedKey(_) => "receipt_untrusted_key",
            ReceiptError::Checkpoint(_) => "receipt_checkpoint_invalid",
            ReceiptError::TenantMismatch => "receipt_tenant_mismatch",
            ReceiptError::SizeMismatch => "receipt_size_mismatch",
            ReceiptError::Proof(_) => "receipt_proof_invalid",
        }
    }

    fn message_it(&self) -> String {
        match self {
            ReceiptError::Cbor(e) => format!(
                "I dati di verifica della ricevuta non sono leggibili: {}",
                e.message_it()
            ),
            ReceiptError::Field(f) => {
                format!("Nei dati di verifica manca il campo «{f}» o ha un tipo errato")
            }
            ReceiptError::UnexpectedField => {
                "I dati di verifica contengono un campo non previsto".to_owned()
            }
            ReceiptError::Format => "Formato dei dati di verifica sconosciuto".to_owned(),
            ReceiptError::Leaf(e) => format!(
                "La voce di registro della ricevuta non è valida: {}",
                e.message_it()
            ),
            ReceiptError::IndexMismatch => {
                "La posizione indicata non corrisponde alla voce di registro".to_owned()
            }
            ReceiptError::WrongEvent => {
                "La voce di registro non riguarda una registrazione di protocollo".to_owned()
            }
            ReceiptError::StateMismatch => {
                "I dati della registrazione non corrispondono all'impronta registrata: la ricevuta è stata alterata".to_owned()
            }
            ReceiptError::StateField(f) => {
                format!("Nei dati della registrazione manca il campo «{f}» o ha un tipo errato")
            }
            ReceiptError::UntrustedKey(name) => format!(
                "Il checkpoint è firmato con una chiave non fornita o diversa da quella dell'ente («{name}»)"
            ),
            ReceiptError::Checkpoint(e) => e.message_it(),
            ReceiptError::TenantMismatch => {
                "Il checkpoint appartiene a un ente diverso da quello della registrazione".to_owned()
            }
            ReceiptError::SizeMismatch => {
                "La dimensione del registro nel checkpoint non corrisponde alla prova".to_owned()
            }
            ReceiptError::Proof(e) => e.message_it(),
        }
    }
}

const K_FORMAT: &str = "format";
const K_LEAF: &str = "leaf";
const K_INDEX: &str = "index";
const K_TREE_SIZE: &str = "tree_size";
const K_PROOF: &str = "proof";
const K_CHECKPOINT: &str = "checkpoint";
const K_KEY_NAME: &str = "key_name";
const K_KEY_ID: &str = "key_id";
const K_STATE: &str = "state";

impl Bundle {
    /// The bundle as a CBOR map.
    #[must_use]
    pub fn to_cbor(&self) -> Value {
        Value::Map(vec![
            (Value::text(K_FORMAT), Value::text(FORMAT)),
            (Value::text(K_LEAF), Value::bytes(self.leaf.clone())),
            (Value::text(K_INDEX), Value::Unsigned(self.index)),
            (Value::text(K_TREE_SIZE), Value::Unsigned(self.tree_size)),
            (
                Value::text(K_PROOF),
                Value::Array(
                    self.proof
                        .iter()
                        .map(|h| Value::bytes(h.to_vec()))
                        .collect(),
                ),
            ),
            (
                Value::text(K_CHECKPOINT),
                Value::text(self.checkpoint.clone()),
            ),
            (Value::text(K_KEY_NAME), Value::text(self.key_name.clone())),
            (Value::text(K_KEY_ID), Value::bytes(self.key_id.to_vec())),
            (Value::text(K_STATE), Value::bytes(self.state.clone())),
        ])
    }

    /// The bundle bytes (deterministic CBOR).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        // The nine keys are distinct constants: encoding cannot fail.
        cbor::encode(&self.to_cbor()).unwrap_or_default()
    }

    /// Parses bundle bytes strictly.
    ///
    /// # Errors
    /// [`ReceiptError::Cbor`], [`ReceiptError::Field`],
    /// [`ReceiptError::UnexpectedField`] or [`ReceiptError::Format`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ReceiptError> {
        let value = cbor::decode(bytes)?;
        let map = value.as_map().ok_or(ReceiptError::Field(K_FORMAT))?;
        const KEYS: [&str; 9] = [
            K_FORMAT,
            K_LEAF,
            K_INDEX,
            K_TREE_SIZE,
            K_PROOF,
            K_CHECKPOINT,
            K_KEY_NAME,
            K_KEY_ID,
            K_STATE,
        ];
        if map
            .iter()
            .any(|(k, _)| !k.as_text().is_some_and(|k| KEYS.contains(&k)))
        {
            return Err(ReceiptError::UnexpectedField);
        }
        let get = |k: &'static str| value.get(k).ok_or(ReceiptError::Field(k));
        let bytes_of = |k: &'static str| -> Result<Vec<u8>, ReceiptError> {
            Ok(get(k)?.as_bytes().ok_or(ReceiptError::Field(k))?.to_vec())
        };
        let text_of = |k: &'static str| -> Result<String, ReceiptError> {
            Ok(get(k)?.as_text().ok_or(ReceiptError::Field(k))?.to_owned())
        };
        let uint_of = |k: &'static str| get(k)?.as_u64().ok_or(ReceiptError::Field(k));
        if text_of(K_FORMAT)? != FORMAT {
            return Err(ReceiptError::Format);
        }
        let proof = get(K_PROOF)?
            .as_array()
            .ok_or(ReceiptError::Field(K_PROOF))?
            .iter()
            .map(|h| {
                h.as_bytes()
                    .and_then(|b| Hash::try_from(b).ok())
                    .ok_or(ReceiptError::Field(K_PROOF))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let key_id = <[u8; 4]>::try_from(bytes_of(K_KEY_ID)?.as_slice())
            .map_err(|_| ReceiptError::Field(K_KEY_ID))?;
        Ok(Bundle {
            leaf: bytes_of(K_LEAF)?,
            index: uint_of(K_INDEX)?,
            tree_size: uint_of(K_TREE_SIZE)?,
            proof,
            checkpoint: text_of(K_CHECKPOINT)?,
            key_name: text_of(K_KEY_NAME)?,
            key_id,
            state: bytes_of(K_STATE)?,
        })
    }
}

/// A document listed in a verified receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDocument {
    /// File name.
    pub name: String,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// What a valid receipt proves: the registration as recorded, and where
/// it sits in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The ledger entry (tenant, seq, time, kind, subject).
    pub entry: LedgerEntry,
    /// The verified checkpoint.
    pub checkpoint: Checkpoint,
    /// Register code.
    pub register: String,
    /// Register year.
    pub year: i64,
    /// Protocol number.
    pub number: u64,
    /// Registration time as recorded (RFC 3339).
    pub registered_at: String,
    /// Flow code: `E`, `U` or `I`.
    pub flow: String,
    /// Oggetto.
    pub subject: String,
    /// Names of the correspondents.
    pub correspondents: Vec<String>,
    /// The primary document.
    pub primary: VerifiedDocument,
    /// Attachments.
    pub attachments: Vec<VerifiedDocument>,
    /// Whether the recorded state is annulled.
    pub annulled: bool,
}

impl Verified {
    /// The number as printed: at least seven digits (DPR 445/2000 art. 57).
    #[must_use]
    pub fn number_text(&self) -> String {
        format!("{:07}", self.number)
    }
}

fn state_text(state: &Value, key: &'static str) -> Result<String, ReceiptError> {
    state
        .get(key)
        .and_then(Value::as_text)
        .map(str::to_owned)
        .ok_or(ReceiptError::StateField(key))
}

fn state_document(v: Option<&Value>, key: &'static str) -> Result<VerifiedDocument, ReceiptError> {
    let v = v.ok_or(ReceiptError::StateField(key))?;
    let field = |k| {
        v.get(k)
            .and_then(Value::as_text)
            .map(str::to_owned)
            .ok_or(ReceiptError::StateField(key))
    };
    Ok(VerifiedDocument {
        name: field("name")?,
        sha256: field("sha256")?,
    })
}

/// Reads the fields a receipt shows from a registration state.
fn read_state(state: &Value) -> Result<ReadState, ReceiptError> {
    if state.as_map().is_none() {
        return Err(ReceiptError::StateField("state"));
    }
    let correspondents = state
        .get("correspondents")
        .and_then(Value::as_array)
        .ok_or(ReceiptError::StateField("correspondents"))?
        .iter()
        .map(|c| {
            c.get("name")
                .and_then(Value::as_text)
                .map(str::to_owned)
                .ok_or(ReceiptError::StateField("correspondents"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let attachments = state
        .get("attachments")
        .and_then(Value::as_array)
        .ok_or(ReceiptError::StateField("attachments"))?
        .iter()
        .map(|a| state_document(Some(a), "attachments"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ReadState {
        register: state_text(state, "register")?,
        year: state
            .get("year")
            .and_then(Value::as_i128)
            .and_then(|y| i64::try_from(y).ok())
            .ok_or(ReceiptError::StateField("year"))?,
        number: state
            .get("number")
            .and_then(Value::as_u64)
            .ok_or(ReceiptError::StateField("number"))?,
        registered_at: state_text(state, "registered_at")?,
        flow: state_text(state, "flow")?,
        subject: state_text(state, "subject")?,
        correspondents,
        primary: state_document(state.get("primary"), "primary")?,
        attachments,
        annulled: !matches!(state.get("annulment"), Some(Value::Null) | None),
    })
}

struct ReadState {
    register: String,
    year: i64,
    number: u64,
    registered_at: String,
    flow: String,
    subject: String,
    correspondents: Vec<String>,
    primary: VerifiedDocument,
    attachments: Vec<VerifiedDocument>,
    annulled: bool,
}

/// Verifies a bundle offline (`docs/receipt-format.md`, "Verification"):
///
/// 1. parse the bundle strictly;
/// 2. parse the leaf (DECISIONS 11); its `seq` must be `index`, its kind
///    one of [`KINDS`] and its subject `protocollo:<id>`;
/// 3. SHA-256(`state`) must be the leaf's `state`, and `state` a
///    registration state in deterministic CBOR;
/// 4. the checkpoint must verify with a trusted key whose name is
///    `key_name` and whose id is `key_id`; its origin must end with
///    `/palazzo/<leaf tenant>` and its size must be `tree_size`;
/// 5. the inclusion proof of `SHA-256(0x00 ‖ leaf)` at `index` in a tree of
///    `tree_size` must give the checkpoint's root (RFC 9162 §2.1.3.2).
///
/// `trusted` are the verifier keys the caller trusts (name, key); the key
/// in the bundle is only a pointer into that list.
///
/// # Errors
/// The first check that fails, as a [`ReceiptError`].
pub fn verify(bundle: &[u8], trusted: &[(String, VerifyingKey)]) -> Result<Verified, ReceiptError> {
    let b = Bundle::from_bytes(bundle)?;
    let entry = LedgerEntry::from_leaf_bytes(&b.leaf)?;
    if entry.seq() != b.index {
        return Err(ReceiptError::IndexMismatch);
    }
    if !KINDS.contains(&entry.kind())
        || !entry
            .subject()
            .strip_prefix(SUBJECT_PREFIX)
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|c| c.is_ascii_digit()))
    {
        return Err(ReceiptError::WrongEvent);
    }
    let digest: Hash = Sha256::digest(&b.state).into();
    if &digest != entry.state_hash() {
        return Err(ReceiptError::StateMismatch);
    }
    let state = cbor::decode(&b.state)?;
    let fields = read_state(&state)?;
    let key = trusted
        .iter()
        .find(|(name, key)| name == &b.key_name && checkpoint::key_id(name, key) == b.key_id)
        .map(|(_, key)| key)
        .ok_or_else(|| ReceiptError::UntrustedKey(b.key_name.clone()))?;
    let cp = checkpoint::verify(&b.checkpoint, &b.key_name, key)?;
    if !cp
        .origin
        .strip_suffix(entry.tenant())
        .is_some_and(|rest| rest.ends_with("/palazzo/"))
    {
        return Err(ReceiptError::TenantMismatch);
    }
    if cp.size != b.tree_size {
        return Err(ReceiptError::SizeMismatch);
    }
    merkle::verify_inclusion(
        &merkle::leaf_hash(&b.leaf),
        b.index,
        b.tree_size,
        &b.proof,
        &cp.root,
    )?;
    Ok(Verified {
        entry,
        checkpoint: cp,
        register: fields.register,
        year: fields.year,
        number: fields.number,
        registered_at: fields.registered_at,
        flow: fields.flow,
        subject: fields.subject,
        correspondents: fields.correspondents,
        primary: fields.primary,
        attachments: fields.attachments,
        annulled: fields.annulled,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use ed25519_dalek::SigningKey;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    const ORIGIN: &str = "comune.casamassima.ba.it/palazzo/casamassima";

    /// The registration state of the test vector (`docs/receipt-format.md`).
    fn vector_state() -> Value {
        fn t(s: &str) -> Value {
            Value::text(s)
        }
        let doc = |name: &str, sha: &str| {
            Value::Map(vec![
                (t("name"), t(name)),
                (t("media_type"), t("application/pdf")),
                (t("size"), Value::Unsigned(1024)),
                (t("sha256"), t(sha)),
            ])
        };
        Value::Map(vec![
            (t("register"), t("GEN")),
            (t("year"), Value::int(2026)),
            (t("number"), Value::Unsigned(12)),
            (t("registered_at"), t("2026-03-02T09:15:30.123456Z")),
            (t("flow"), t("E")),
            (t("subject"), t("Richiesta di accesso agli atti")),
            (
                t("correspondents"),
                Value::Array(vec![Value::Map(vec![
                    (t("kind"), t("PersonaFisica")),
                    (t("name"), t("Mario Rossi")),
                    (t("fiscal_code"), t("RSSMRA80A01H501U")),
                    (t("ipa"), Value::Null),
                    (t("email"), Value::Null),
                    (t("address"), Value::Null),
                    (t("per_conoscenza"), Value::Bool(false)),
                ])]),
            ),
            (t("received_number"), Value::Null),
            (t("received_date"), Value::Null),
            (
                t("primary"),
                doc(
                    "istanza.pdf",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ),
            ),
            (
                t("attachments"),
                Value::Array(vec![doc(
                    "documento.pdf",
                    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                )]),
            ),
            (t("registered_by"), t("Ufficio protocollo (user:1)")),
            (t("emergency"), Value::Null),
            (t("classification"), Value::Null),
            (t("office"), Value::Null),
            (t("annulment"), Value::Null),
        ])
    }

    /// The fixed test vector: a tree of three leaves (two unrelated events
    /// and the registration at index 2), signed with the Ed25519 key whose
    /// seed is 32 bytes of 0x07.
    fn vector() -> (Bundle, SigningKey) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let state = cbor::encode(&vector_state()).unwrap();
        let state_hash: Hash = Sha256::digest(&state).into();
        let time = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let leaves: Vec<LedgerEntry> = vec![
            LedgerEntry::new(
                "casamassima",
                0,
                time("2026-03-01T08:00:00Z"),
                "tenant.created",
                "tenant:1",
                [1; 32],
            )
            .unwrap(),
            LedgerEntry::new(
                "casamassima",
                1,
                time("2026-03-01T08:00:01Z"),
                "service.updated",
                "service:3",
                [2; 32],
            )
            .unwrap(),
            LedgerEntry::new(
                "casamassima",
                2,
                time("2026-03-02T09:15:30.123456Z"),
                "protocollo.registered",
                "protocollo:12",
                state_hash,
            )
            .unwrap(),
        ];
        let hashes: Vec<Hash> = leaves.iter().map(LedgerEntry::leaf_hash).collect();
        let proof = merkle::inclusion_proof(&hashes, 2, 3).unwrap();
        let cp = Checkpoint::new(ORIGIN, 3, merkle::root(&hashes))
            .with_time(time("2026-03-02T09:15:30.400000Z"))
            .unwrap();
        let note = checkpoint::sign(&cp, ORIGIN, &key).unwrap();
        (
            Bundle {
                leaf: leaves[2].to_leaf_bytes(),
                index: 2,
                tree_size: 3,
                proof,
                checkpoint: note,
                key_name: ORIGIN.into(),
                key_id: checkpoint::key_id(ORIGIN, &key.verifying_key()),
                state,
            },
            key,
        )
    }

    fn trusted(key: &SigningKey) -> Vec<(String, VerifyingKey)> {
        vec![(ORIGIN.to_owned(), key.verifying_key())]
    }

    /// Pins the test vectors printed in `docs/receipt-format.md`, and checks
    /// that the document shows exactly these values.
    #[test]
    fn test_vectors_match_the_document() {
        let (b, key) = vector();
        let bytes = b.to_bytes();
        let leaf_hash = merkle::leaf_hash(&b.leaf);
        let cp = checkpoint::parse_unverified(&b.checkpoint)
            .unwrap()
            .checkpoint;
        let vectors = [
            (
                "verifier key",
                checkpoint::verifier_key_string(ORIGIN, &key.verifying_key()).unwrap(),
            ),
            ("state", hex(&b.state)),
            ("state sha256", hex(&Sha256::digest(&b.state))),
            ("leaf", hex(&b.leaf)),
            ("leaf hash", hex(&leaf_hash)),
            ("proof[0]", hex(&b.proof[0])),
            ("root", hex(&cp.root)),
            ("bundle sha256", hex(&Sha256::digest(&bytes))),
        ];
        let doc = include_str!("../../../docs/receipt-format.md");
        for (name, value) in &vectors {
            let line = format!("| {name} | `{value}` |");
            assert!(doc.contains(&line), "docs/receipt-format.md lacks:\n{line}");
        }
        assert_eq!(b.proof.len(), 1);
        assert!(
            doc.contains(&b.checkpoint),
            "docs/receipt-format.md lacks the signed note:\n{}",
            b.checkpoint
        );
        let v = verify(&bytes, &trusted(&key)).unwrap();
        assert_eq!(v.number_text(), "0000012");
        assert_eq!(v.year, 2026);
        assert_eq!(v.primary.name, "istanza.pdf");
        assert_eq!(v.correspondents, vec!["Mario Rossi".to_owned()]);
        assert!(!v.annulled);
    }

    #[test]
    fn round_trip_is_strict() {
        let (b, _) = vector();
        let bytes = b.to_bytes();
        assert_eq!(Bundle::from_bytes(&bytes).unwrap(), b);
        let mut extra = b.to_cbor().as_map().unwrap().to_vec();
        extra.push((Value::text("x"), Value::Null));
        assert_eq!(
            Bundle::from_bytes(&cbor::encode(&Value::Map(extra)).unwrap()),
            Err(ReceiptError::UnexpectedField)
        );
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            Bundle::from_bytes(&trailing),
            Err(ReceiptError::Cbor(_))
        ));
    }

    #[test]
    fn tampering_is_detected() {
        let (b, key) = vector();
        let t = trusted(&key);
        let check = |b: &Bundle| verify(&b.to_bytes(), &t).map(|_| ()).unwrap_err();

        // Another number in the state.
        let mut changed = b.clone();
        let mut state = vector_state().as_map().unwrap().to_vec();
        for (k, v) in &mut state {
            if k.as_text() == Some("number") {
                *v = Value::Unsigned(13);
            }
        }
        changed.state = cbor::encode(&Value::Map(state)).unwrap();
        assert_eq!(check(&changed), ReceiptError::StateMismatch);

        // A wrong proof hash.
        let mut changed = b.clone();
        changed.proof[0][0] ^= 1;
        assert!(matches!(check(&changed), ReceiptError::Proof(_)));

        // A proof for another index.
        let mut changed = b.clone();
        changed.index = 1;
        assert_eq!(check(&changed), ReceiptError::IndexMismatch);

        // Checkpoint signed by another key with the same name.
        let other = SigningKey::from_bytes(&[8; 32]);
        let mut changed = b.clone();
        let cp = checkpoint::parse_unverified(&b.checkpoint)
            .unwrap()
            .checkpoint;
        changed.checkpoint = checkpoint::sign(&cp, ORIGIN, &other).unwrap();
        changed.key_id = checkpoint::key_id(ORIGIN, &other.verifying_key());
        assert!(matches!(check(&changed), ReceiptError::UntrustedKey(_)));
        // ... even when the bundle claims the trusted key id.
        changed.key_id = b.key_id;
        assert_eq!(
            check(&changed),
            ReceiptError::Checkpoint(CheckpointError::WrongKeyId)
        );

        // A checkpoint of another size.
        let mut changed = b.clone();
        changed.tree_size = 4;
        assert_eq!(check(&changed), ReceiptError::SizeMismatch);

        // No trusted key at all.
        assert!(matches!(
            verify(&b.to_bytes(), &[]),
            Err(ReceiptError::UntrustedKey(_))
        ));

        // Codes and messages.
        assert_eq!(ReceiptError::StateMismatch.code(), "receipt_state_mismatch");
        assert!(
            ReceiptError::StateMismatch
                .message_it()
                .contains("alterata")
        );
    }
}

//! Signed checkpoints of the ledger (DECISIONS 12): C2SP `tlog-checkpoint`
//! bodies in C2SP `signed-note` envelopes, signed with Ed25519.
//!
//! A checkpoint body (c2sp.org/tlog-checkpoint, "Note text") is
//!
//! ```text
//! <origin>\n
//! <tree size, ASCII decimal, no leading zeros>\n
//! <base64 of the RFC 6962 root hash>\n
//! <extension line>\n          (zero or more, non-empty)
//! ```
//!
//! Palazzo's origin is `<host>/palazzo/<tenant>` and is also the key name
//! of the signature. Palazzo writes one extension line,
//! `time <YYYY-MM-DDTHH:MM:SS.ffffffZ>` (the checkpoint time, in the format
//! of [`crate::ledger::format_time`]); see [`Checkpoint::time`]. (The
//! tlog-checkpoint spec marks extension lines NOT RECOMMENDED because log
//! monitors cannot audit them; our Ed25519 signature does cover them.)
//!
//! A signed note (c2sp.org/signed-note, "Format") is the body, a blank line,
//! then one or more signature lines
//! `— <key name> <base64(key id ‖ signature)>\n`, where `—` is U+2014, the
//! key id is 4 bytes and, for Ed25519 (signature type `0x01`),
//! `key id = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`.
//!
//! The verifier key of a log is written
//! `<name>+<key id as 8 lower-case hex digits>+<base64(0x01 ‖ public key)>`
//! (the form of golang.org/x/mod/sumdb/note).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::Coded;
use crate::ledger;
use crate::merkle::Hash;

/// Signature type identifier of Ed25519 in signed notes (c2sp.org/signed-note,
/// "Signature types").
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

/// Prefix of the time extension line: `time ` followed by
/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub const TIME_EXTENSION_PREFIX: &str = "time ";

/// Maximum number of signature lines accepted in a note (the signed-note
/// spec requires accepting at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The start of every signature line: em dash U+2014 and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a checkpoint or signed note was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note contains an ASCII control character other than newline.
    #[error("note contains a control character")]
    ControlCharacter,
    /// The note has no signature block, or no signature line by the
    /// expected key name.
    #[error("note has no signature by the expected key")]
    MissingSignature,
    /// A signature line by the expected key name has another key id.
    #[error("note is signed by another key with the same name (key id mismatch)")]
    WrongKeyId,
    /// A signature line is not `— <name> <base64>` or its base64 is not
    /// canonical or shorter than 5 bytes.
    #[error("malformed signature line")]
    MalformedSignatureLine,
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("too many signature lines")]
    TooManySignatures,
    /// The signature by the expected key does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// A key name is empty or contains a Unicode space or `+`.
    #[error("invalid key name")]
    InvalidKeyName,
    /// The body is not newline-terminated lines, has fewer than three lines,
    /// or has an empty line.
    #[error("malformed checkpoint body")]
    MalformedBody,
    /// The origin is empty or contains a Unicode space or `+`.
    #[error("invalid origin")]
    InvalidOrigin,
    /// The tree size is not canonical ASCII decimal (leading zeros, signs,
    /// overflow…).
    #[error("tree size is not canonical decimal")]
    NonCanonicalSize,
    /// The root hash is not the canonical base64 of 32 bytes.
    #[error("invalid root hash")]
    InvalidRootHash,
    /// An extension line is empty or contains a newline or control character.
    #[error("invalid extension line")]
    InvalidExtension,
    /// The `time` extension is not `time YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    #[error("invalid time extension")]
    InvalidTime,
    /// More than one `time` extension line.
    #[error("more than one time extension")]
    DuplicateTime,
    /// A verifier key string is malformed or its key id does not match.
    #[error("invalid verifier key")]
    InvalidVerifierKey,
}

impl Coded for CheckpointError {
    fn code(&self) -> &'static str {
        match self {
            CheckpointError::ControlCharacter => "checkpoint_control_character",
            CheckpointError::MissingSignature => "checkpoint_missing_signature",
            CheckpointError::WrongKeyId => "checkpoint_wrong_key_id",
            CheckpointError::MalformedSignatureLine => "checkpoint_malformed_signature_line",
            CheckpointError::TooManySignatures => "checkpoint_too_many_signatures",
            CheckpointError::BadSignature => "checkpoint_bad_signature",
            CheckpointError::InvalidKeyName => "checkpoint_invalid_key_name",
            CheckpointError::MalformedBody => "checkpoint_malformed_body",
            CheckpointError::InvalidOrigin => "checkpoint_invalid_origin",
            CheckpointError::NonCanonicalSize => "checkpoint_non_canonical_size",
            CheckpointError::InvalidRootHash => "checkpoint_invalid_root_hash",
            CheckpointError::InvalidExtension => "checkpoint_invalid_extension",
            CheckpointError::InvalidTime => "checkpoint_invalid_time",
            CheckpointError::DuplicateTime => "checkpoint_duplicate_time",
            CheckpointError::InvalidVerifierKey => "checkpoint_invalid_verifier_key",
        }
    }

    fn message_it(&self) -> String {
        let msg = match self {
            CheckpointError::ControlCharacter => {
                "Il checkpoint contiene un carattere di controllo non ammesso"
            }
            CheckpointError::MissingSignature => "Il checkpoint non è firmato dalla chiave attesa",
            CheckpointError::WrongKeyId => {
                "Il checkpoint è firmato da un'altra chiave con lo stesso nome (identificativo della chiave diverso)"
            }
            CheckpointError::MalformedSignatureLine => {
                "Una riga di firma del checkpoint è malformata"
            }
            CheckpointError::TooManySignatures => "Il checkpoint ha troppe firme",
            CheckpointError::BadSignature => {
                "La firma del checkpoint non è valida: il checkpoint è stato alterato"
            }
            CheckpointError::InvalidKeyName => {
                "Il nome della chiave è vuoto o contiene spazi o il carattere «+»"
            }
            CheckpointError::MalformedBody => "Il testo del checkpoint è malformato",
            CheckpointError::InvalidOrigin => {
                "L'origine del checkpoint è vuota o contiene spazi o il carattere «+»"
            }
            CheckpointError::NonCanonicalSize => {
                "La dimensione del registro nel checkpoint non è un numero decimale canonico"
            }
            CheckpointError::InvalidRootHash => {
                "La radice del registro nel checkpoint non è valida"
            }
            CheckpointError::InvalidExtension => "Una riga aggiuntiva del checkpoint non è valida",
            CheckpointError::InvalidTime => {
                "L'orario del checkpoint non è nel formato AAAA-MM-GGThh:mm:ss.ffffffZ"
            }
            CheckpointError::DuplicateTime => "Il checkpoint riporta più di un orario",
            CheckpointError::InvalidVerifierKey => "La chiave di verifica non è valida",
        };
        msg.to_owned()
    }
}

/// A tree head: the body of a C2SP tlog-checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log identity; for Palazzo `<host>/palazzo/<tenant>` (DECISIONS 12).
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 6962 root hash at `size`.
    pub root: Hash,
    /// Extension lines, without their newline (see [`Checkpoint::time`]).
    pub extensions: Vec<String>,
}

/// A name that can be a signed-note key name: non-empty, no Unicode
/// whitespace, no `+` (c2sp.org/signed-note, "Format").
fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    #[must_use]
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text: `origin\nsize\nbase64(root)\n` then each extension
    /// line and `\n`.
    ///
    /// # Errors
    /// [`CheckpointError::InvalidOrigin`] for an origin that is empty or
    /// has a Unicode space or `+` (Palazzo enforces the spec's SHOULD,
    /// because the origin is also the key name);
    /// [`CheckpointError::InvalidExtension`] for an empty extension or one
    /// with a control character (e.g. a newline).
    pub fn body(&self) -> Result<String, CheckpointError> {
        if !is_valid_key_name(&self.origin) {
            return Err(CheckpointError::InvalidOrigin);
        }
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for ext in &self.extensions {
            if ext.is_empty() || ext.chars().any(char::is_control) {
                return Err(CheckpointError::InvalidExtension);
            }
            out.push_str(ext);
            out.push('\n');
        }
        Ok(out)
    }

    /// Parses a note text strictly (the inverse of [`Checkpoint::body`]).
    ///
    /// # Errors
    /// [`CheckpointError::MalformedBody`], [`CheckpointError::InvalidOrigin`],
    /// [`CheckpointError::NonCanonicalSize`],
    /// [`CheckpointError::InvalidRootHash`] or
    /// [`CheckpointError::InvalidExtension`].
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let content = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MalformedBody)?;
        let mut lines = content.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::MalformedBody);
        };
        if origin.is_empty() || size.is_empty() || root.is_empty() {
            return Err(CheckpointError::MalformedBody);
        }
        if !is_valid_key_name(origin) {
            return Err(CheckpointError::InvalidOrigin);
        }
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        let mut extensions = Vec::new();
        for line in lines {
            if line.is_empty() {
                return Err(CheckpointError::MalformedBody);
            }
            if line.chars().any(char::is_control) {
                return Err(CheckpointError::InvalidExtension);
            }
            extensions.push(line.to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint time from the `time` extension line, if present.
    ///
    /// # Errors
    /// [`CheckpointError::InvalidTime`] when the line is not exactly
    /// `time YYYY-MM-DDTHH:MM:SS.ffffffZ`; [`CheckpointError::DuplicateTime`]
    /// when there are several.
    pub fn time(&self) -> Result<Option<Timestamp>, CheckpointError> {
        let mut found = None;
        for ext in &self.extensions {
            if let Some(text) = ext.strip_prefix(TIME_EXTENSION_PREFIX) {
                if found.is_some() {
                    return Err(CheckpointError::DuplicateTime);
                }
                found = Some(ledger::parse_time(text).map_err(|_| CheckpointError::InvalidTime)?);
            } else if ext == TIME_EXTENSION_PREFIX.trim_end() {
                return Err(CheckpointError::InvalidTime);
            }
        }
        Ok(found)
    }

    /// Sets the `time` extension line (replacing any previous one), the
    /// time floored to the microsecond.
    ///
    /// # Errors
    /// [`CheckpointError::InvalidTime`] for a time before year 0.
    pub fn set_time(&mut self, time: Timestamp) -> Result<(), CheckpointError> {
        let text = ledger::format_time(time).map_err(|_| CheckpointError::InvalidTime)?;
        self.extensions.retain(|ext| {
            !ext.starts_with(TIME_EXTENSION_PREFIX) && ext != TIME_EXTENSION_PREFIX.trim_end()
        });
        self.extensions
            .push(format!("{TIME_EXTENSION_PREFIX}{text}"));
        Ok(())
    }

    /// This checkpoint with its `time` extension set (see
    /// [`Checkpoint::set_time`]).
    ///
    /// # Errors
    /// As [`Checkpoint::set_time`].
    pub fn with_time(mut self, time: Timestamp) -> Result<Self, CheckpointError> {
        self.set_time(time)?;
        Ok(self)
    }
}

/// tlog-checkpoint: "ASCII decimal … with no leading zeroes (unless the tree
/// is empty)".
fn parse_size(text: &str) -> Result<u64, CheckpointError> {
    let canonical = text == "0"
        || (text.starts_with(|c: char| matches!(c, '1'..='9'))
            && text.bytes().all(|b| b.is_ascii_digit()));
    if !canonical {
        return Err(CheckpointError::NonCanonicalSize);
    }
    text.parse().map_err(|_| CheckpointError::NonCanonicalSize)
}

/// Standard base64 with padding (RFC 4648 §4) of exactly 32 bytes, in its
/// one canonical spelling.
fn parse_root(text: &str) -> Result<Hash, CheckpointError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| CheckpointError::InvalidRootHash)?;
    let root = Hash::try_from(bytes.as_slice()).map_err(|_| CheckpointError::InvalidRootHash)?;
    if STANDARD.encode(root) != text {
        return Err(CheckpointError::InvalidRootHash);
    }
    Ok(root)
}

/// The signed-note key id of an Ed25519 key:
/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]` (c2sp.org/signed-note,
/// "Ed25519 signatures").
#[must_use]
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519_SIGNATURE_TYPE]);
    h.update(key.as_bytes());
    let digest: [u8; 32] = h.finalize().into();
    let [a, b, c, d, ..] = digest;
    [a, b, c, d]
}

fn lower_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The verifier key string `<name>+<hex key id>+<base64(0x01 ‖ public key)>`
/// (8 lower-case hex digits), which `palazzo verify-receipt` and other
/// signed-note tools take to check checkpoints.
///
/// # Errors
/// [`CheckpointError::InvalidKeyName`].
pub fn verifier_key_string(name: &str, key: &VerifyingKey) -> Result<String, CheckpointError> {
    if !is_valid_key_name(name) {
        return Err(CheckpointError::InvalidKeyName);
    }
    let mut typed = vec![ED25519_SIGNATURE_TYPE];
    typed.extend_from_slice(key.as_bytes());
    Ok(format!(
        "{name}+{}+{}",
        lower_hex(&key_id(name, key)),
        STANDARD.encode(typed)
    ))
}

/// Parses a verifier key string (see [`verifier_key_string`]), checking
/// that the key id matches the name and key.
///
/// # Errors
/// [`CheckpointError::InvalidVerifierKey`].
pub fn parse_verifier_key(text: &str) -> Result<(String, VerifyingKey), CheckpointError> {
    let bad = CheckpointError::InvalidVerifierKey;
    // The base64 part may itself contain '+': split at the first two only.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad);
    };
    if !is_valid_key_name(name)
        || id_hex.len() != 8
        || !id_hex
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(bad);
    }
    let typed = STANDARD.decode(key_b64).map_err(|_| bad.clone())?;
    let Some((&ED25519_SIGNATURE_TYPE, raw)) = typed.split_first() else {
        return Err(bad);
    };
    let raw: [u8; 32] = raw.try_into().map_err(|_| bad.clone())?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad.clone())?;
    if lower_hex(&key_id(name, &key)) != id_hex || STANDARD.encode(&typed) != key_b64 {
        return Err(bad);
    }
    Ok((name.to_owned(), key))
}

/// One signature line of a signed note, not verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub key_name: String,
    /// The 4-byte key id.
    pub key_id: [u8; 4],
    /// The signature bytes after the key id (64 bytes for Ed25519).
    pub signature: Vec<u8>,
}

/// A checkpoint read without verifying its signatures, e.g. to find which
/// key to verify it with. Never trust its content before [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedCheckpoint {
    /// The parsed body.
    pub checkpoint: Checkpoint,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

/// The signature line `— <key name> <base64(key id ‖ signature)>\n` for an
/// Ed25519 signature made elsewhere (e.g. by an HSM behind the `Signer`
/// trait, DECISIONS 14) over the body text.
///
/// # Errors
/// [`CheckpointError::InvalidKeyName`].
pub fn signature_line(
    key_name: &str,
    key: &VerifyingKey,
    signature: &Signature,
) -> Result<String, CheckpointError> {
    if !is_valid_key_name(key_name) {
        return Err(CheckpointError::InvalidKeyName);
    }
    let mut blob = key_id(key_name, key).to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    Ok(format!(
        "{SIGNATURE_PREFIX}{key_name} {}\n",
        STANDARD.encode(blob)
    ))
}

/// Signs the checkpoint and returns the full signed note: body, blank
/// line, one signature line. Palazzo uses the origin as `key_name`.
///
/// # Errors
/// [`CheckpointError::InvalidOrigin`], [`CheckpointError::InvalidExtension`]
/// or [`CheckpointError::InvalidKeyName`].
pub fn sign(
    checkpoint: &Checkpoint,
    key_name: &str,
    key: &SigningKey,
) -> Result<String, CheckpointError> {
    let body = checkpoint.body()?;
    // Ed25519 (RFC 8032) over the note text, final newline included.
    let signature = key.sign(body.as_bytes());
    let line = signature_line(key_name, &key.verifying_key(), &signature)?;
    Ok(format!("{body}\n{line}"))
}

/// Splits a signed note into its text and signature lines
/// (c2sp.org/signed-note, "Format").
fn split_note(note: &str) -> Result<(&str, Vec<NoteSignature>), CheckpointError> {
    if note.chars().any(|c| c < '\u{20}' && c != '\n') {
        return Err(CheckpointError::ControlCharacter);
    }
    if !note.ends_with('\n') {
        return Err(CheckpointError::MalformedBody);
    }
    // "The text is separated from the signatures by the last empty line."
    let split = note
        .rfind("\n\n")
        .ok_or(CheckpointError::MissingSignature)?;
    let (text, rest) = note.split_at(split + 1);
    let block = rest.get(1..).ok_or(CheckpointError::MissingSignature)?;
    let mut signatures = Vec::new();
    for line in block.split_terminator('\n') {
        if signatures.len() >= MAX_SIGNATURES {
            return Err(CheckpointError::TooManySignatures);
        }
        signatures.push(parse_signature_line(line)?);
    }
    if signatures.is_empty() {
        return Err(CheckpointError::MissingSignature);
    }
    Ok((text, signatures))
}

fn parse_signature_line(line: &str) -> Result<NoteSignature, CheckpointError> {
    let bad = CheckpointError::MalformedSignatureLine;
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(bad.clone())?;
    let (name, b64) = rest.split_once(' ').ok_or(bad.clone())?;
    if !is_valid_key_name(name) {
        return Err(bad);
    }
    let blob = STANDARD.decode(b64).map_err(|_| bad.clone())?;
    if STANDARD.encode(&blob) != b64 {
        return Err(bad);
    }
    let (id, signature) = blob.split_first_chunk::<4>().ok_or(bad.clone())?;
    if signature.is_empty() {
        return Err(bad);
    }
    Ok(NoteSignature {
        key_name: name.to_owned(),
        key_id: *id,
        signature: signature.to_vec(),
    })
}

/// Verifies a signed note against one Ed25519 key and returns its text
/// (c2sp.org/signed-note, "Signatures"): signatures by other keys are
/// ignored; every signature by this key (same name **and** key id) must
/// verify, and there must be at least one.
///
/// # Errors
/// [`CheckpointError::MissingSignature`], [`CheckpointError::WrongKeyId`],
/// [`CheckpointError::BadSignature`], or a malformed-note error.
pub fn verify_note<'a>(
    note: &'a str,
    key_name: &str,
    key: &VerifyingKey,
) -> Result<&'a str, CheckpointError> {
    if !is_valid_key_name(key_name) {
        return Err(CheckpointError::InvalidKeyName);
    }
    let (text, signatures) = split_note(note)?;
    let id = key_id(key_name, key);
    let mut verified = false;
    let mut same_name = false;
    for sig in signatures.iter().filter(|s| s.key_name == key_name) {
        same_name = true;
        if sig.key_id != id {
            continue;
        }
        let signature =
            Signature::from_slice(&sig.signature).map_err(|_| CheckpointError::BadSignature)?;
        key.verify_strict(text.as_bytes(), &signature)
            .map_err(|_| CheckpointError::BadSignature)?;
        verified = true;
    }
    match (verified, same_name) {
        (true, _) => Ok(text),
        (false, true) => Err(CheckpointError::WrongKeyId),
        (false, false) => Err(CheckpointError::MissingSignature),
    }
}

/// Verifies a signed checkpoint and parses its body strictly.
///
/// This checks the signature and the format only; the caller checks that
/// the origin is the expected one (for Palazzo, equal to `key_name`) and
/// that the checkpoint is consistent with earlier ones.
///
/// # Errors
/// Every [`CheckpointError`] of [`verify_note`] and
/// [`Checkpoint::parse_body`].
pub fn verify(
    note: &str,
    key_name: &str,
    key: &VerifyingKey,
) -> Result<Checkpoint, CheckpointError> {
    Checkpoint::parse_body(verify_note(note, key_name, key)?)
}

/// Parses a signed checkpoint without verifying any signature.
///
/// # Errors
/// Any format error of the note or the body.
pub fn parse_unverified(note: &str) -> Result<UnverifiedCheckpoint, CheckpointError> {
    let (text, signatures) = split_note(note)?;
    Ok(UnverifiedCheckpoint {
        checkpoint: Checkpoint::parse_body(text)?,
        signatures,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::merkle;

    const ORIGIN: &str = "comune.casamassima.ba.it/palazzo/casamassima";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn sample() -> Checkpoint {
        let time: Timestamp = "2026-03-02T09:15:31.000250Z".parse().unwrap();
        Checkpoint::new(ORIGIN, 42, merkle::leaf_hash(b"x"))
            .with_time(time)
            .unwrap()
    }

    /// Signs arbitrary note text, to test the body parser behind a valid signature.
    fn sign_text(text: &str, name: &str, k: &SigningKey) -> String {
        let line = signature_line(name, &k.verifying_key(), &k.sign(text.as_bytes())).unwrap();
        format!("{text}\n{line}")
    }

    #[test]
    fn body_format() {
        let cp = sample();
        let body = cp.body().unwrap();
        let root_b64 = STANDARD.encode(merkle::leaf_hash(b"x"));
        assert_eq!(
            body,
            format!("{ORIGIN}\n42\n{root_b64}\ntime 2026-03-02T09:15:31.000250Z\n")
        );
        assert_eq!(Checkpoint::parse_body(&body).unwrap(), cp);
        assert_eq!(
            cp.time().unwrap(),
            Some("2026-03-02T09:15:31.00025Z".parse().unwrap())
        );
        let empty = Checkpoint::new(ORIGIN, 0, merkle::empty_root());
        assert_eq!(
            empty.body().unwrap(),
            format!("{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
        );
        assert_eq!(empty.time().unwrap(), None);
        // The example of docs/ledger-format.md.
        let with_time = empty
            .with_time("2026-03-02T00:00:00Z".parse().unwrap())
            .unwrap();
        assert_eq!(
            with_time.body().unwrap(),
            "comune.casamassima.ba.it/palazzo/casamassima\n\
             0\n\
             47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\
             time 2026-03-02T00:00:00.000000Z\n"
        );
    }

    #[test]
    fn sign_verify_round_trip() {
        let k = key(7);
        let cp = sample();
        let note = sign(&cp, ORIGIN, &k).unwrap();
        assert!(note.starts_with(&cp.body().unwrap()));
        assert!(note.contains(&format!("\n\n\u{2014} {ORIGIN} ")));
        assert!(note.ends_with('\n'));
        assert_eq!(verify(&note, ORIGIN, &k.verifying_key()).unwrap(), cp);
        let unverified = parse_unverified(&note).unwrap();
        assert_eq!(unverified.checkpoint, cp);
        assert_eq!(unverified.signatures.len(), 1);
        assert_eq!(unverified.signatures[0].key_name, ORIGIN);
        assert_eq!(
            unverified.signatures[0].key_id,
            key_id(ORIGIN, &k.verifying_key())
        );
        assert_eq!(unverified.signatures[0].signature.len(), 64);
        // Signature line: base64 of 4 + 64 bytes.
        let line = note.lines().last().unwrap();
        let b64 = line.rsplit(' ').next().unwrap();
        assert_eq!(STANDARD.decode(b64).unwrap().len(), 68);
    }

    #[test]
    fn any_altered_byte_fails() {
        let k = key(7);
        let vk = k.verifying_key();
        let note = sign(&sample(), ORIGIN, &k).unwrap();
        let bytes = note.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [bytes[i] ^ 0x01, bytes[i] ^ 0x20, b'A'] {
                if replacement == bytes[i] {
                    continue;
                }
                let mut altered = bytes.to_vec();
                altered[i] = replacement;
                if let Ok(text) = String::from_utf8(altered) {
                    assert!(
                        verify(&text, ORIGIN, &vk).is_err(),
                        "byte {i} -> {replacement:#x} accepted"
                    );
                }
            }
        }
        // Removing or duplicating content fails too.
        assert!(verify(&note[1..], ORIGIN, &vk).is_err());
        assert!(verify(&note[..note.len() - 1], ORIGIN, &vk).is_err());
        let body_len = sample().body().unwrap().len();
        assert_eq!(
            verify(&note[..body_len + 1], ORIGIN, &vk),
            Err(CheckpointError::MissingSignature)
        );
        assert_eq!(
            verify(&note[..body_len], ORIGIN, &vk),
            Err(CheckpointError::MissingSignature)
        );
    }

    #[test]
    fn wrong_key_and_key_name() {
        let note = sign(&sample(), ORIGIN, &key(7)).unwrap();
        // Same name, other key: the key id differs.
        assert_eq!(
            verify(&note, ORIGIN, &key(8).verifying_key()),
            Err(CheckpointError::WrongKeyId)
        );
        // Other name.
        assert_eq!(
            verify(
                &note,
                "comune.altro.it/palazzo/altro",
                &key(7).verifying_key()
            ),
            Err(CheckpointError::MissingSignature)
        );
        // A forged line with the right name and key id but a signature by
        // another key: bad signature.
        let body = sample().body().unwrap();
        let forged_sig = key(8).sign(body.as_bytes());
        let forged = signature_line(ORIGIN, &key(7).verifying_key(), &forged_sig).unwrap();
        assert_eq!(
            verify(
                &format!("{body}\n{forged}"),
                ORIGIN,
                &key(7).verifying_key()
            ),
            Err(CheckpointError::BadSignature)
        );
        // A valid signature plus a bad one by the same key: rejected.
        let good = note.trim_end_matches('\n').to_owned();
        assert_eq!(
            verify(
                &format!("{good}\n{forged}"),
                ORIGIN,
                &key(7).verifying_key()
            ),
            Err(CheckpointError::BadSignature)
        );
    }

    #[test]
    fn other_signatures_are_ignored() {
        // A witness cosignature (another name) before ours does not matter.
        let cp = sample();
        let body = cp.body().unwrap();
        let witness = signature_line(
            "witness.example/w1",
            &key(9).verifying_key(),
            &key(9).sign(body.as_bytes()),
        )
        .unwrap();
        let ours = signature_line(
            ORIGIN,
            &key(7).verifying_key(),
            &key(7).sign(body.as_bytes()),
        )
        .unwrap();
        let note = format!("{body}\n{witness}{ours}");
        assert_eq!(verify(&note, ORIGIN, &key(7).verifying_key()).unwrap(), cp);
        assert_eq!(parse_unverified(&note).unwrap().signatures.len(), 2);
        // Too many signatures.
        let many = format!("{body}\n{}", witness.repeat(MAX_SIGNATURES + 1));
        assert_eq!(
            verify(&many, ORIGIN, &key(7).verifying_key()),
            Err(CheckpointError::TooManySignatures)
        );
    }

    #[test]
    fn strict_body_parsing_behind_a_valid_signature() {
        let k = key(7);
        let vk = k.verifying_key();
        let root = STANDARD.encode(merkle::empty_root());
        let check = |text: &str| verify(&sign_text(text, ORIGIN, &k), ORIGIN, &vk);
        assert!(check(&format!("{ORIGIN}\n0\n{root}\n")).is_ok());
        assert_eq!(
            check(&format!("{ORIGIN}\n042\n{root}\n")),
            Err(CheckpointError::NonCanonicalSize)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n00\n{root}\n")),
            Err(CheckpointError::NonCanonicalSize)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n+42\n{root}\n")),
            Err(CheckpointError::NonCanonicalSize)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n-1\n{root}\n")),
            Err(CheckpointError::NonCanonicalSize)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n 42\n{root}\n")),
            Err(CheckpointError::NonCanonicalSize)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n18446744073709551616\n{root}\n")),
            Err(CheckpointError::NonCanonicalSize)
        );
        assert!(check(&format!("{ORIGIN}\n18446744073709551615\n{root}\n")).is_ok());
        assert_eq!(
            check(&format!("{ORIGIN}\n1\n{}\n", &root[..43])),
            Err(CheckpointError::InvalidRootHash)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n1\n{}\n", root.trim_end_matches('='))),
            Err(CheckpointError::InvalidRootHash)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n1\n{}\n", STANDARD.encode([0u8; 31]))),
            Err(CheckpointError::InvalidRootHash)
        );
        // Non-canonical trailing bits: "…U=" → "…V=" decodes to the same bytes in lax decoders.
        let lax = format!("{}V=", &root[..42]);
        assert_eq!(
            check(&format!("{ORIGIN}\n1\n{lax}\n")),
            Err(CheckpointError::InvalidRootHash)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n1\n")),
            Err(CheckpointError::MalformedBody)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n1\n{root}\nok\n\nafter-blank\n")),
            Err(CheckpointError::MalformedBody)
        );
        assert_eq!(
            check(&format!("\n1\n{root}\n")),
            Err(CheckpointError::MalformedBody)
        );
        assert_eq!(
            check(&format!("a b\n1\n{root}\n")),
            Err(CheckpointError::InvalidOrigin)
        );
        assert_eq!(
            check(&format!("a+b\n1\n{root}\n")),
            Err(CheckpointError::InvalidOrigin)
        );
        // Control characters anywhere in the note.
        assert_eq!(
            check(&format!("{ORIGIN}\r\n1\n{root}\n")),
            Err(CheckpointError::ControlCharacter)
        );
        assert_eq!(
            check(&format!("{ORIGIN}\n1\n{root}\nx\ty\n")),
            Err(CheckpointError::ControlCharacter)
        );
        // Extension lines are kept; the time one must be exact.
        let cp = check(&format!(
            "{ORIGIN}\n1\n{root}\nfoo bar\ntime 2026-03-02T09:15:31.000250Z\n"
        ))
        .unwrap();
        assert_eq!(
            cp.extensions,
            ["foo bar", "time 2026-03-02T09:15:31.000250Z"]
        );
        assert!(cp.time().unwrap().is_some());
        let cp = check(&format!("{ORIGIN}\n1\n{root}\ntime 2026-03-02T09:15:31Z\n")).unwrap();
        assert_eq!(cp.time(), Err(CheckpointError::InvalidTime));
        let cp = check(&format!(
            "{ORIGIN}\n1\n{root}\ntime 2026-03-02T09:15:31.000000Z\ntime 2026-03-02T09:15:32.000000Z\n"
        ))
        .unwrap();
        assert_eq!(cp.time(), Err(CheckpointError::DuplicateTime));
    }

    #[test]
    fn malformed_signature_lines() {
        let k = key(7);
        let vk = k.verifying_key();
        let note = sign(&sample(), ORIGIN, &k).unwrap();
        let body = sample().body().unwrap();
        let sig_line = note[body.len() + 1..].to_owned();
        for bad in [
            sig_line.replace('\u{2014}', "-"),
            sig_line.replacen(' ', "  ", 1),
            sig_line.replacen(' ', "", 1),
            format!("{}\n", sig_line.trim_end().trim_end_matches('=')),
            format!("\u{2014} {ORIGIN} AAAA\n"),
            format!("\u{2014} {ORIGIN} AAAAAA==\n"),
            "\u{2014} \n".to_owned(),
        ] {
            assert_eq!(
                verify(&format!("{body}\n{bad}"), ORIGIN, &vk),
                Err(CheckpointError::MalformedSignatureLine),
                "{bad:?}"
            );
        }
        // Two blank lines before the signature: the extra one ends up in the body.
        assert_eq!(
            verify(&format!("{body}\n\n{sig_line}"), ORIGIN, &vk),
            Err(CheckpointError::BadSignature)
        );
    }

    #[test]
    fn body_rejects_what_it_cannot_write() {
        let mut cp = sample();
        cp.extensions.push("evil\n999".to_owned());
        assert_eq!(cp.body(), Err(CheckpointError::InvalidExtension));
        cp.extensions = vec![String::new()];
        assert_eq!(
            sign(&cp, ORIGIN, &key(1)),
            Err(CheckpointError::InvalidExtension)
        );
        let cp = Checkpoint::new("", 1, [0; 32]);
        assert_eq!(cp.body(), Err(CheckpointError::InvalidOrigin));
        assert_eq!(
            sign(&sample(), "bad name", &key(1)),
            Err(CheckpointError::InvalidKeyName)
        );
        // set_time replaces the previous time line.
        let mut cp = sample();
        cp.set_time(Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(cp.extensions, ["time 1970-01-01T00:00:00.000000Z"]);
        assert_eq!(cp.time().unwrap(), Some(Timestamp::UNIX_EPOCH));
    }

    /// The key id, computed independently here from the signed-note spec.
    #[test]
    fn key_id_known_answer() {
        let vk = key(7).verifying_key();
        let mut input = ORIGIN.as_bytes().to_vec();
        input.push(0x0a);
        input.push(0x01);
        input.extend_from_slice(vk.as_bytes());
        let digest = Sha256::digest(&input);
        assert_eq!(key_id(ORIGIN, &vk), digest[..4]);
        let vkey = verifier_key_string(ORIGIN, &vk).unwrap();
        let expected_b64 = STANDARD.encode([&[0x01u8][..], vk.as_bytes()].concat());
        assert_eq!(
            vkey,
            format!(
                "{ORIGIN}+{:02x}{:02x}{:02x}{:02x}+{expected_b64}",
                digest[0], digest[1], digest[2], digest[3]
            )
        );
        assert_eq!(parse_verifier_key(&vkey).unwrap(), (ORIGIN.to_owned(), vk));
    }

    /// Interoperability with golang.org/x/mod/sumdb/note: the published
    /// example verifier key and signed note of its package documentation
    /// (public data only; the example's private key is not used).
    #[test]
    fn go_sumdb_note_example_verifies() {
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let (name, vk) = parse_verifier_key(vkey).unwrap();
        assert_eq!(name, "PeterNeumann");
        assert_eq!(key_id(&name, &vk), [0xc7, 0x4f, 0x20, 0xa3]);
        assert_eq!(verifier_key_string(&name, &vk).unwrap(), vkey);
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        let note = format!(
            "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        );
        assert_eq!(verify_note(&note, &name, &vk).unwrap(), text);
        let altered = note.replace("cryptography", "cryptographY");
        assert_eq!(
            verify_note(&altered, &name, &vk),
            Err(CheckpointError::BadSignature)
        );
    }

    #[test]
    fn verifier_key_parsing_is_strict() {
        let vk = key(7).verifying_key();
        let good = verifier_key_string(ORIGIN, &vk).unwrap();
        assert!(parse_verifier_key(&good).is_ok());
        let (prefix, rest) = good.split_once('+').unwrap();
        let (id, b64) = rest.split_once('+').unwrap();
        for bad in [
            format!("{prefix}+{}+{b64}", id.to_uppercase()),
            format!("{prefix}+00000000+{b64}"),
            format!("other.name+{id}+{b64}"),
            format!("{prefix}+{id}+{}", &b64[..b64.len() - 1]),
            format!("{prefix}+{id}+{b64}="),
            format!("{prefix}+{id}"),
            format!(
                "{prefix}+{id}+{}",
                STANDARD.encode([&[0x02u8][..], vk.as_bytes()].concat())
            ),
            String::new(),
        ] {
            assert_eq!(
                parse_verifier_key(&bad),
                Err(CheckpointError::InvalidVerifierKey),
                "{bad}"
            );
        }
        assert_eq!(
            verifier_key_string("a b", &vk),
            Err(CheckpointError::InvalidKeyName)
        );
        assert_eq!(
            CheckpointError::BadSignature.code(),
            "checkpoint_bad_signature"
        );
        assert!(
            CheckpointError::BadSignature
                .message_it()
                .contains("alterato")
        );
    }
}

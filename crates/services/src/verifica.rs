//! Verifying a certificate for anyone (issue 5, part 5; DECISIONS 18):
//! the seal is taken from what the reader has — the PDF (its embedded
//! `contrassegno.txt`), a photo of the code (PNG or JPEG, read with
//! `rqrr`), or the code's text — and checked against the comune's trust
//! list and status list, offline ([`check_offline`], `palazzo
//! verify-certificate`) or by the comune itself ([`App::verify_seal`], the
//! `/verifica` page, which also knows its records).
//!
//! For a PDF the embedded canonical record must also hash to the seal's
//! record hash (R9): a file whose record was changed is `altered` even if
//! its seal is genuine.

use std::io::Cursor;

use palazzo_domain::calendar::rome_date;
use palazzo_seal::cose::PublicKey;
use palazzo_seal::status::StatusListToken;
use palazzo_seal::trust::TrustList;
use palazzo_seal::verify::{Verification, verify_text};
use sha2::{Digest, Sha256};

pub use palazzo_seal::verify::Verdict;

use crate::signatures::pades;
use crate::signatures::{Certificate, TrustAnchors};
use crate::{App, ServiceError, ServiceResult};

/// Largest photo accepted, in pixels (a 24-megapixel phone picture).
pub const MAX_PIXELS: usize = 24_000_000;

/// Largest upload accepted on the verification page, in bytes.
pub const MAX_UPLOAD: usize = 15 * 1024 * 1024;

/// What the reader has.
#[derive(Debug, Clone)]
pub enum Evidence {
    /// The certificate's PDF.
    Pdf(Vec<u8>),
    /// A photo or scan of the code (PNG or JPEG).
    Image(Vec<u8>),
    /// The code's text (`PZ1:…`), as a scanner app shows it.
    Text(String),
}

impl Evidence {
    /// An uploaded file, told by its content: a PDF, a PNG or a JPEG.
    ///
    /// # Errors
    /// `file_non_supportato` for anything else; `file_troppo_grande`.
    pub fn from_upload(bytes: Vec<u8>) -> ServiceResult<Evidence> {
        if bytes.len() > MAX_UPLOAD {
            return Err(refused(
                "file_troppo_grande",
                "Il file supera i 15 MB: carica il PDF del certificato o una foto più piccola.",
            ));
        }
        if bytes.starts_with(b"%PDF-") {
            Ok(Evidence::Pdf(bytes))
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(b"\xff\xd8\xff") {
            Ok(Evidence::Image(bytes))
        } else {
            Err(refused(
                "file_non_supportato",
                "Carica il PDF del certificato oppure una foto del codice QR (PNG o JPEG).",
            ))
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The seal text that was checked.
    pub text: String,
    /// The offline verification (verdict, claims, key).
    pub verification: Verification,
    /// For a PDF: whether its embedded record hashes to the seal's value.
    pub record_matches: Option<bool>,
    /// For a PDF checked by the comune ([`App::verify_seal`]): its PAdES
    /// seal (ANA-04).
    pub file_seal: Option<FileSeal>,
}

/// The PAdES seal of a certificate's PDF, as the comune sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSeal {
    /// Intact, over the whole file, by one of the comune's own seal
    /// certificates, chained to a trusted root.
    Valid {
        /// The seal certificate's subject.
        signer: String,
    },
    /// The PDF has no signature: a copy saved again or printed to PDF. The
    /// contrassegno still says what was certified.
    Absent,
    /// Intact, but by a certificate the comune does not trust.
    Untrusted {
        /// The certificate's subject, when found.
        signer: Option<String>,
    },
    /// Bytes changed after sealing, or content added after the seal.
    Broken {
        /// What was found, in Italian.
        detail: String,
    },
}

impl FileSeal {
    /// A stable code: `valido`, `assente`, `non_riconosciuto`,
    /// `non_valido`.
    pub fn code(&self) -> &'static str {
        match self {
            FileSeal::Valid { .. } => "valido",
            FileSeal::Absent => "assente",
            FileSeal::Untrusted { .. } => "non_riconosciuto",
            FileSeal::Broken { .. } => "non_valido",
        }
    }

    /// What it means, in Italian, for the reader of the certificate.
    pub fn message_it(&self) -> String {
        match self {
            FileSeal::Valid { signer } => format!(
                "Il file porta il sigillo elettronico del Comune ({signer}) ed è integro: è il \
                 PDF originale rilasciato."
            ),
            FileSeal::Absent => "Il file non porta il sigillo elettronico del Comune: è una copia \
                 (salvata di nuovo o stampata in PDF). Fanno fede i dati del contrassegno."
                .to_owned(),
            FileSeal::Untrusted { signer } => format!(
                "Il file porta un sigillo elettronico integro ma di un soggetto non riconosciuto{}. \
                 Fanno fede i dati del contrassegno.",
                signer
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            ),
            FileSeal::Broken { detail } => {
                format!("Il sigillo elettronico del file non è valido: {detail}.")
            }
        }
    }

    /// Checks the PAdES seal of `pdf`: intact and covering the whole file,
    /// by one of the comune's own seal certificates (`own`, SHA-256 hex of
    /// each, current and past) chained to `anchors`. A certificate that
    /// merely chains to a trusted CA is not the comune's: anyone holding a
    /// qualified certificate could seal an edited copy.
    pub fn of_pdf(pdf: &[u8], anchors: &TrustAnchors, own: &[String]) -> FileSeal {
        let report = match pades::verify_pdf(pdf, anchors, jiff::Timestamp::now()) {
            Ok(Some(r)) => r,
            Ok(None) => return FileSeal::Absent,
            Err(detail) => return FileSeal::Broken { detail },
        };
        let first = report.signature.signatures.first();
        let intact = report.signature.envelope_problem.is_none()
            && report.detached_cms
            && first.is_some_and(|s| s.signature_valid);
        if !intact {
            return FileSeal::Broken {
                detail: report
                    .problem()
                    .unwrap_or_else(|| "la firma del file non è valida".into()),
            };
        }
        if !report.covers_whole_file {
            return FileSeal::Broken {
                detail: "il file è stato modificato dopo il sigillo (la firma non copre tutto il \
                         file)"
                    .into(),
            };
        }
        match first {
            Some(s)
                if s.trusted
                    && s.certificate_sha256
                        .as_ref()
                        .is_some_and(|f| own.contains(f)) =>
            {
                FileSeal::Valid {
                    signer: s.signer.clone().unwrap_or_default(),
                }
            }
            s => FileSeal::Untrusted {
                signer: s.and_then(|s| s.signer.clone()),
            },
        }
    }
}

impl Checked {
    /// The verdict, the record's and the file seal's checks included: a
    /// genuine contrassegno in a PDF whose record or PAdES seal does not
    /// match is `altered`.
    pub fn verdict(&self) -> Verdict {
        let broken = matches!(self.file_seal, Some(FileSeal::Broken { .. }));
        match self.record_matches {
            _ if broken && self.verification.verdict.is_genuine() => Verdict::Altered,
            Some(false) if self.verification.verdict.is_genuine() => Verdict::Altered,
            _ => self.verification.verdict,
        }
    }
}

fn refused(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.to_owned(),
    }
}

fn no_seal() -> ServiceError {
    refused(
        "contrassegno_non_trovato",
        "Non è stato trovato alcun contrassegno: inquadra bene il codice QR del certificato \
         oppure carica il PDF originale.",
    )
}

/// Grey pixels of a PNG or JPEG, refused above [`MAX_PIXELS`].
fn grey_pixels(bytes: &[u8]) -> ServiceResult<(usize, usize, Vec<u8>)> {
    let unreadable = || {
        refused(
            "immagine_non_leggibile",
            "L'immagine non si può leggere: usa una foto PNG o JPEG.",
        )
    };
    let too_big = || {
        refused(
            "immagine_troppo_grande",
            "L'immagine è troppo grande: usa una foto di al massimo 24 megapixel.",
        )
    };
    if bytes.starts_with(b"\x89PNG") {
        let mut decoder = png::Decoder::new(Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(|_| unreadable())?;
        let (w, h) = {
            let info = reader.info();
            (info.width as usize, info.height as usize)
        };
        if w.saturating_mul(h) > MAX_PIXELS {
            return Err(too_big());
        }
        let mut buf = vec![0; reader.output_buffer_size().ok_or_else(unreadable)?];
        let out = reader.next_frame(&mut buf).map_err(|_| unreadable())?;
        let channels = out.color_type.samples();
        let grey = buf[..out.line_size * h]
            .chunks(out.line_size)
            .flat_map(|line| {
                line[..w * channels].chunks(channels).map(|p| match p {
                    [g] | [g, _] => *g,
                    [r, g, b, ..] => luma(*r, *g, *b),
                    _ => 255,
                })
            })
            .collect();
        Ok((w, h, grey))
    } else {
        use zune_jpeg::zune_core::colorspace::ColorSpace;
        use zune_jpeg::zune_core::options::DecoderOptions;
        let options = DecoderOptions::default()
            .jpeg_set_out_colorspace(ColorSpace::Luma)
            .set_max_width(16_384)
            .set_max_height(16_384);
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(Cursor::new(bytes), options);
        decoder.decode_headers().map_err(|_| unreadable())?;
        let (w, h) = decoder.dimensions().ok_or_else(unreadable)?;
        if w.saturating_mul(h) > MAX_PIXELS {
            return Err(too_big());
        }
        let grey = decoder.decode().map_err(|_| unreadable())?;
        if grey.len() < w * h {
            return Err(unreadable());
        }
        Ok((w, h, grey))
    }
}

fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8
}

/// The PZ1 text of the QR code in a photo: the first code found whose
/// content starts with `PZ1:`. Large photos are read at reduced size first
/// (a code of a certificate fills a good part of the frame), then in full.
///
/// # Errors
/// `immagine_non_leggibile`, `immagine_troppo_grande`,
/// `contrassegno_non_trovato`.
pub fn seal_text_from_image(bytes: &[u8]) -> ServiceResult<String> {
    let (w, h, grey) = grey_pixels(bytes)?;
    decode_grey(w, h, &grey).ok_or_else(no_seal)
}

/// The first `PZ1:` code in grey pixels (row-major, `w` × `h`).
///
/// rqrr reads a dense code (version 20, DECISIONS 16) at some sampling
/// grids and misses it at others (measured on pages rasterised at 200–400
/// dpi), so the picture is tried at a few scales (nearest-neighbour
/// resampling), each as it is and binarised at its Otsu threshold, until
/// one reads.
fn decode_grey(w: usize, h: usize, grey: &[u8]) -> Option<String> {
    if w == 0 || h == 0 || grey.len() < w * h {
        return None;
    }
    let threshold = otsu(grey);
    let longest = w.max(h) as f32;
    let mut factors: Vec<f32> = [1.0, 0.8, 0.65, 0.5, 0.35]
        .into_iter()
        .filter(|&f| f == 1.0 || longest * f >= 400.0)
        .collect();
    if longest > 3_000.0 {
        // A phone photo: its code is large; try smaller copies first.
        factors.sort_by(|a, b| a.total_cmp(b));
    }
    for f in factors {
        let (sw, sh) = (((w as f32) * f) as usize, ((h as f32) * f) as usize);
        for binarise in [false, true] {
            let mut img = rqrr::PreparedImage::prepare_from_greyscale(sw, sh, |x, y| {
                let sx = (((x as f32) + 0.5) / f) as usize;
                let sy = (((y as f32) + 0.5) / f) as usize;
                let v = grey
                    .get(sy.min(h - 1) * w + sx.min(w - 1))
                    .copied()
                    .unwrap_or(255);
                match binarise {
                    false => v,
                    true if v < threshold => 0,
                    true => 255,
                }
            });
            for grid in img.detect_grids() {
                match grid.decode() {
                    Ok((_, text)) if text.starts_with("PZ1:") => return Some(text),
                    other => tracing::debug!(?other, "a QR code that is not a seal"),
                }
            }
        }
    }
    None
}

/// Otsu's threshold of grey pixels (the level that best splits dark from
/// light).
fn otsu(grey: &[u8]) -> u8 {
    let mut hist = [0u64; 256];
    for &v in grey {
        hist[usize::from(v)] += 1;
    }
    let total = grey.len() as f64;
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut below, mut sum_below, mut best, mut level) = (0.0, 0.0, 0.0, 128u8);
    for (i, &c) in hist.iter().enumerate() {
        below += c as f64;
        if below == 0.0 {
            continue;
        }
        let above = total - below;
        if above == 0.0 {
            break;
        }
        sum_below += i as f64 * c as f64;
        let (m0, m1) = (sum_below / below, (sum - sum_below) / above);
        let between = below * above * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            level = u8::try_from(i).unwrap_or(128);
        }
    }
    level.saturating_add(1)
}

/// The seal text of `evidence`, and for a PDF its embedded record.
///
/// # Errors
/// `contrassegno_non_trovato` when there is none; the image's refusals.
pub fn seal_text(evidence: &Evidence) -> ServiceResult<(String, Option<Vec<u8>>)> {
    match evidence {
        Evidence::Text(t) => {
            let t: String = t
                .trim()
                .chars()
                .filter(|c| *c != '\n' && *c != '\r')
                .collect();
            if t.is_empty() {
                return Err(no_seal());
            }
            Ok((t, None))
        }
        Evidence::Image(b) => Ok((seal_text_from_image(b)?, None)),
        Evidence::Pdf(b) => {
            let text = palazzo_pdf::read::seal_text(b).ok_or_else(no_seal)?;
            let record = palazzo_pdf::read::embedded_files(b)
                .ok()
                .and_then(|files| {
                    files
                        .into_iter()
                        .find(|f| f.media_type.as_deref() == Some("application/cbor"))
                })
                .map(|f| f.data);
            Ok((text, record))
        }
    }
}

/// Verifies `evidence` offline against a trust list and, when given, a
/// status list (both already verified with the comune's list key), at
/// `now` (seconds since the Unix epoch).
///
/// # Errors
/// As [`seal_text`].
pub fn check_offline(
    evidence: &Evidence,
    trust: &TrustList,
    status: Option<&StatusListToken>,
    now: u64,
) -> ServiceResult<Checked> {
    let (text, record) = seal_text(evidence)?;
    let verification = verify_text(&text, trust, status, now);
    Ok(checked(text, record, verification))
}

/// The comune's list key from its PEM file (`trust-list-key.pem`,
/// `/.well-known/palazzo/trust-list-key`): what a verifier pins.
///
/// # Errors
/// `chiave_lista_non_valida` when the text holds no readable public key.
pub fn list_key_from_pem(text: &str) -> ServiceResult<PublicKey> {
    crate::keys::pem_decode("PUBLIC KEY", text)
        .and_then(|der| PublicKey::from_spki_der(&der).ok())
        .ok_or_else(|| {
            refused(
                "chiave_lista_non_valida",
                "Il file della chiave non contiene una chiave pubblica leggibile \
                 (PEM «PUBLIC KEY» del Comune).",
            )
        })
}

/// A trust list (`trust-list.cbor`), verified with the pinned list key.
///
/// # Errors
/// `lista_fiducia_non_valida` when it is not a trust list signed by `key`.
pub fn verified_trust_list(bytes: &[u8], key: &PublicKey) -> ServiceResult<TrustList> {
    TrustList::verify(bytes, key).map_err(|_| {
        refused(
            "lista_fiducia_non_valida",
            "La lista di fiducia non è valida o non è firmata con la chiave indicata: \
             scaricala di nuovo dal sito del Comune.",
        )
    })
}

/// A status list token (`status-list-<year>.cbor`), verified with the
/// pinned list key.
///
/// # Errors
/// `lista_stato_non_valida` when it is not a status list signed by `key`.
pub fn verified_status_list(bytes: &[u8], key: &PublicKey) -> ServiceResult<StatusListToken> {
    StatusListToken::verify(bytes, [key]).map_err(|_| {
        refused(
            "lista_stato_non_valida",
            "La lista di stato non è valida o non è firmata con la chiave indicata: \
             scaricala di nuovo dal sito del Comune.",
        )
    })
}

/// As [`check_offline`] with any number of status lists (e.g. one per
/// year, as an offline verifier caches them): the one the seal names (its
/// URI and issuer) is used; also returns it, `None` when none of them is
/// (revocation then not checked).
///
/// # Errors
/// As [`seal_text`].
pub fn check_offline_lists<'l>(
    evidence: &Evidence,
    trust: &TrustList,
    lists: &'l [StatusListToken],
    now: u64,
) -> ServiceResult<(Checked, Option<&'l StatusListToken>)> {
    let (text, record) = seal_text(evidence)?;
    let mut verification = verify_text(&text, trust, None, now);
    let list = verification
        .claims
        .as_ref()
        .and_then(|c| c.status.as_ref().map(|r| (c, r)))
        .and_then(|(c, r)| {
            lists
                .iter()
                .find(|l| l.uri == r.uri && l.issuer == c.issuer)
        });
    if let Some(l) = list {
        verification = verify_text(&text, trust, Some(l), now);
    }
    Ok((checked(text, record, verification), list))
}

fn checked(text: String, record: Option<Vec<u8>>, verification: Verification) -> Checked {
    let record_matches = match (&record, &verification.claims) {
        (Some(r), Some(c)) => Some(<[u8; 32]>::from(Sha256::digest(r)) == c.record_hash),
        (Some(_), None) => None,
        (None, _) => None,
    };
    Checked {
        text,
        verification,
        record_matches,
        file_seal: None,
    }
}

impl App {
    /// The comune's own seal certificates (the installed one first, then
    /// those it replaced) and the anchors they are checked against: the
    /// comune's trust anchors and the root of its installed seal's chain.
    /// An unreadable trust anchors file is logged and left out: the public
    /// verification still answers.
    fn file_seal_trust(&self, t: &palazzo_store::Tenant) -> (TrustAnchors, Vec<String>) {
        let slug = &t.data.slug;
        let mut anchors = match self.trust_anchors(slug) {
            Ok(a) => a.certificates().to_vec(),
            Err(e) => {
                tracing::error!(tenant = %slug, error = %e, "trust anchors unreadable");
                Vec::new()
            }
        };
        let (own, root) = self.seal_certificates_and_root(slug);
        anchors.extend(root);
        let own = own.iter().map(Certificate::fingerprint).collect();
        (TrustAnchors::new(anchors), own)
    }

    /// What an offline verifier needs to check the PAdES seal of the
    /// comune's PDFs, as one PEM file (`palazzo certificates export`,
    /// `sigillo.pem`): the comune's seal certificates, current and past,
    /// then the root CA of the installed one. `None` without a seal.
    pub fn seal_verification_pem(&self, tenant_slug: &str) -> Option<String> {
        let (own, root) = self.seal_certificates_and_root(tenant_slug);
        if own.is_empty() {
            return None;
        }
        let mut out = String::new();
        for c in own.iter().chain(root.iter()) {
            out.push_str(&crate::keys::pem("CERTIFICATE", c.der()));
        }
        Some(out)
    }

    /// Verifies `evidence` as the comune (the `/verifica` page): against
    /// its own trust list and its records (a certificate revoked here is `revoked`; a genuine seal
    /// whose `cti` the comune never issued is `not_found`).
    ///
    /// # Errors
    /// As [`seal_text`]; key or storage failures.
    pub async fn verify_seal(
        &self,
        tenant: palazzo_store::TenantId,
        evidence: &Evidence,
    ) -> ServiceResult<Checked> {
        let t = self.tenant(tenant)?;
        // The comune's own keys, from its records: the list it publishes is
        // these entries signed, so there is nothing to sign or check here.
        let trust = self.trust_list_entries(&t).await?;
        let now = u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0);
        let file_trust = matches!(evidence, Evidence::Pdf(_)).then(|| self.file_seal_trust(&t));
        // Decoding a photo and checking a 15 MB PDF are CPU work: off the
        // async workers, so that other requests are not held up.
        let evidence = evidence.clone();
        let mut checked = tokio::task::spawn_blocking(move || {
            let mut checked = check_offline(&evidence, &trust, None, now)?;
            if let (Evidence::Pdf(pdf), Some((anchors, own))) = (&evidence, file_trust) {
                checked.file_seal = Some(FileSeal::of_pdf(pdf, &anchors, &own));
            }
            Ok::<_, ServiceError>(checked)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("verification task: {e}")))??;
        let Some(claims) = checked.verification.claims.clone() else {
            return Ok(checked);
        };
        if !checked.verification.verdict.is_genuine() {
            return Ok(checked);
        }
        // Revocation is read from the records (what the status list is built
        // from), not from a freshly signed list: a public request must not
        // cost a list's compression and signature.
        let online = self.certificate_status(tenant, &claims.cti).await?;
        match online.verdict {
            Verdict::NotFound | Verdict::Revoked => checked.verification.verdict = online.verdict,
            _ => {}
        }
        tracing::info!(
            tenant = %t.data.slug,
            verdict = checked.verdict().code(),
            file_seal = ?checked.file_seal,
            today = %rome_date(jiff::Timestamp::now()),
            "certificate verified"
        );
        Ok(checked)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// A symbol of `text` drawn with `px` pixels per module and a quiet
    /// zone of 4 modules.
    fn drawn(text: &str, px: usize) -> (usize, Vec<u8>) {
        let qr = palazzo_seal::qr::encode(text).unwrap();
        let n = qr.size();
        let side = (n + 8) * px;
        let modules = qr.modules();
        let mut grey = vec![255u8; side * side];
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = (x / px, y / px);
                if (4..n + 4).contains(&mx)
                    && (4..n + 4).contains(&my)
                    && modules[(my - 4) * n + mx - 4]
                {
                    grey[y * side + x] = 0;
                }
            }
        }
        (side, grey)
    }

    #[test]
    fn reads_the_largest_seal_from_pixels() {
        // The longest payload before the hash-only variant (DECISIONS 16).
        let mut text = String::from("PZ1:");
        while text.len() < 700 {
            text.push_str("6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3 ");
        }
        text.truncate(700);
        for px in [3, 4, 6] {
            let (side, grey) = drawn(&text, px);
            assert_eq!(
                decode_grey(side, side, &grey).as_deref(),
                Some(text.as_str()),
                "{px} px per module"
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod offline_tests {
    use palazzo_seal::claims::{Pair, SealClaims, StatusRef, Variant, seal_exactly};
    use palazzo_seal::cose::{Ed25519Signer, SealSigner};
    use palazzo_seal::status::StatusList;
    use palazzo_seal::trust::TrustEntry;

    use super::*;

    const NOW: u64 = 1_795_000_000;

    fn uri(year: u32) -> String {
        format!("https://comune.example/.well-known/palazzo/status-list/{year}")
    }

    fn token(year: u32, revoked: &[u64], list: &Ed25519Signer) -> Vec<u8> {
        let mut bits = StatusList::new(1024).unwrap();
        for i in revoked {
            bits.revoke(*i).unwrap();
        }
        StatusListToken {
            issuer: "IT-B923".into(),
            uri: uri(year),
            issued_at: NOW,
            expires_at: None,
            ttl: Some(3_600),
            list: bits,
        }
        .sign(list)
        .unwrap()
    }

    #[test]
    fn pinned_key_lists_and_the_named_status_list() {
        let seal_key = Ed25519Signer::from_seed(&[1; 32]).unwrap();
        let list_key = Ed25519Signer::from_seed(&[2; 32]).unwrap();
        let other = Ed25519Signer::from_seed(&[3; 32]).unwrap();
        let trust = TrustList {
            issuer: "IT-B923".into(),
            issued_at: NOW - 10,
            entries: vec![TrustEntry {
                key: PublicKey::of_signer(&seal_key).unwrap(),
                not_before: NOW - 100,
                not_after: None,
                doc_types: vec!["residenza".into()],
            }],
        }
        .sign(&list_key)
        .unwrap();
        let pem = crate::keys::pem("PUBLIC KEY", list_key.spki_der());
        let key = list_key_from_pem(&pem).unwrap();
        let wrong = list_key_from_pem(&crate::keys::pem("PUBLIC KEY", other.spki_der())).unwrap();
        assert_eq!(
            list_key_from_pem("nessuna chiave").unwrap_err().code(),
            "chiave_lista_non_valida"
        );
        assert_eq!(
            verified_trust_list(&trust, &wrong).unwrap_err().code(),
            "lista_fiducia_non_valida"
        );
        let trust = verified_trust_list(&trust, &key).unwrap();
        let lists = [
            verified_status_list(&token(2025, &[7], &list_key), &key).unwrap(),
            verified_status_list(&token(2026, &[], &list_key), &key).unwrap(),
        ];
        assert_eq!(
            verified_status_list(&token(2026, &[], &other), &key)
                .unwrap_err()
                .code(),
            "lista_stato_non_valida"
        );
        let sealed = |year: u32| {
            let claims = SealClaims {
                issuer: "IT-B923".into(),
                issued_at: NOW - 50,
                expires_at: Some(NOW + 1_000),
                cti: [5; 16],
                doc_type: "residenza".into(),
                pairs: vec![Pair::new("Cognome", "Rossi")],
                record_hash: [0; 32],
                status: Some(StatusRef {
                    idx: 7,
                    uri: uri(year),
                }),
                variant: Variant::Full,
            };
            Evidence::Text(seal_exactly(&claims, &seal_key).unwrap().text)
        };
        // Bit 7 is revoked in the 2025 list only: each seal is checked
        // against the list it names.
        let (c, used) = check_offline_lists(&sealed(2025), &trust, &lists, NOW).unwrap();
        assert_eq!(c.verdict(), Verdict::Revoked);
        assert_eq!(used.map(|l| l.uri.clone()), Some(uri(2025)));
        let (c, used) = check_offline_lists(&sealed(2026), &trust, &lists, NOW).unwrap();
        assert_eq!(c.verdict(), Verdict::Valid);
        assert_eq!(used.map(|l| l.uri.clone()), Some(uri(2026)));
        let (c, used) = check_offline_lists(&sealed(2024), &trust, &lists, NOW).unwrap();
        assert_eq!(c.verdict(), Verdict::Valid);
        assert!(used.is_none());
        let (c, _) = check_offline_lists(&sealed(2025), &trust, &lists, NOW + 2_000).unwrap();
        assert_eq!(c.verdict(), Verdict::Revoked, "revoked before expired");
    }
}

//! Bulk registration from a CSV file (`palazzo protocollo import`, issue 4
//! part 8). The format is in `docs/protocollo-import.md`.
//!
//! Every row is one registration, in its own transaction, in file order:
//! a bad row is reported with its line number and error code and does not
//! stop the others; nothing of a bad row is stored (its documents are
//! content-addressed originals and may stay, unreferenced and harmless).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use palazzo_domain::ids::{CodiceFiscale, Email};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_store::{DocumentRef, Registration, TenantId};

use crate::access::Actor;
use crate::protocollo::RegistrationInput;
use crate::{App, ServiceError, ServiceResult};

/// The header every file must start with (`;`-separated, UTF-8).
pub const HEADER: [&str; 11] = [
    "verso",
    "oggetto",
    "corrispondente",
    "codice_fiscale",
    "email",
    "numero_ricevuto",
    "data_ricevuto",
    "classifica",
    "ufficio",
    "documento",
    "allegati",
];

/// Where the documents that an import's rows name (columns `documento` and
/// `allegati`) come from.
#[derive(Debug, Clone, Copy)]
pub enum ImportDocuments<'a> {
    /// Files relative to this folder, the CSV file's own (the command line);
    /// paths leaving it are refused.
    Folder(&'a Path),
    /// Files already stored in the document store, uploaded together with
    /// the CSV file (back office and JSON API), by their file name: a row
    /// names one by its name (a path is reduced to its last component).
    Uploaded(&'a UploadedDocuments),
}

/// Documents uploaded together with an import file, by file name.
#[derive(Debug, Clone, Default)]
pub struct UploadedDocuments {
    by_name: HashMap<String, DocumentRef>,
}

impl UploadedDocuments {
    /// No documents.
    pub fn new() -> Self {
        UploadedDocuments::default()
    }

    /// Adds a stored document under its (cleaned) file name. Two different
    /// documents with the same name are refused (`import_documento_doppio`):
    /// a row could not say which one it means. The same content twice is
    /// kept once.
    pub fn add(&mut self, doc: DocumentRef) -> ServiceResult<()> {
        match self.by_name.get(&doc.name) {
            Some(d) if d.sha256 != doc.sha256 => Err(bad(
                "import_documento_doppio",
                format!(
                    "Sono stati caricati due file diversi con lo stesso nome «{}»: rinominane uno (e correggi il file CSV).",
                    doc.name
                ),
            )),
            Some(_) => Ok(()),
            None => {
                self.by_name.insert(doc.name.clone(), doc);
                Ok(())
            }
        }
    }

    /// How many documents.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    fn get(&self, name: &str) -> ServiceResult<DocumentRef> {
        let key = crate::documents::clean_name(name).unwrap_or_default();
        self.by_name.get(&key).cloned().ok_or_else(|| {
            bad(
                "import_documento",
                format!(
                    "Il documento «{name}» non è tra i file caricati insieme al file CSV: caricalo con lo stesso nome."
                ),
            )
        })
    }
}

/// What happened to one row.
#[derive(Debug)]
pub enum RowOutcome {
    /// Registered.
    Registered(Box<Registration>),
    /// Refused: line number, stable code, Italian message.
    Refused {
        /// 1-based line in the file.
        line: usize,
        /// Stable code.
        code: &'static str,
        /// Italian message.
        message: String,
    },
}

/// A CSV line whose double quotes do not balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnbalancedQuotes;

/// Splits one CSV line on `;`, with RFC 4180 double-quote quoting.
pub fn split_line(line: &str) -> Result<Vec<String>, UnbalancedQuotes> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => {
                quoted = true;
                at_start = false;
            }
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => {
                quoted = false;
                if !matches!(chars.peek(), None | Some(';')) {
                    return Err(UnbalancedQuotes);
                }
            }
            (false, ';') => {
                out.push(std::mem::take(&mut cur));
                at_start = true;
            }
            (_, c) => {
                cur.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err(UnbalancedQuotes);
    }
    out.push(cur);
    Ok(out)
}

fn refuse(line: usize, e: &ServiceError) -> RowOutcome {
    RowOutcome::Refused {
        line,
        code: e.code(),
        message: e.message_it(),
    }
}

pub(crate) fn bad(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.into(),
    }
}

impl App {
    /// Imports the CSV file `path` into comune `tenant` as `actor`; documents
    /// are read relative to the file's directory. `progress(done, total)` is
    /// called after each row.
    pub async fn import_protocollo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        path: &Path,
        mut progress: impl FnMut(usize, usize),
    ) -> ServiceResult<Vec<RowOutcome>> {
        let text = tokio::fs::read_to_string(path).await.map_err(|e| {
            bad(
                "import_file_unreadable",
                format!("Il file {} non si può leggere: {e}.", path.display()),
            )
        })?;
        let base = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
        let mut lines = text.lines().enumerate();
        let header = lines
            .next()
            .map(|(_, h)| split_line(h.trim_start_matches('\u{feff}')))
            .transpose()
            .ok()
            .flatten()
            .unwrap_or_default();
        if header.iter().map(String::as_str).collect::<Vec<_>>() != HEADER {
            return Err(bad(
                "import_header",
                format!(
                    "La prima riga deve essere l'intestazione: {}",
                    HEADER.join(";")
                ),
            ));
        }
        let rows: Vec<(usize, &str)> = lines
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, l))
            .collect();
        let total = rows.len();
        let snap = self.portal(tenant).await?;
        let mut out = Vec::with_capacity(total);
        for (done, (line, text)) in rows.into_iter().enumerate() {
            let docs = ImportDocuments::Folder(&base);
            let outcome = match self.import_row(tenant, actor, docs, &snap, text).await {
                Ok(r) => RowOutcome::Registered(Box::new(r)),
                Err(e) => refuse(line, &e),
            };
            out.push(outcome);
            progress(done + 1, total);
        }
        Ok(out)
    }

    async fn import_row(
        &self,
        tenant: TenantId,
        actor: &Actor,
        docs: ImportDocuments<'_>,
        snap: &crate::PortalSnapshot,
        line: &str,
    ) -> ServiceResult<Registration> {
        let f = split_line(line).map_err(|UnbalancedQuotes| {
            bad("import_csv", "Virgolette non bilanciate nella riga.")
        })?;
        if f.len() != HEADER.len() {
            return Err(bad(
                "import_columns",
                format!("La riga ha {} colonne invece di {}.", f.len(), HEADER.len()),
            ));
        }
        let input = self.row_input(actor, docs, snap, &f).await?;
        self.register_protocol(tenant, actor, input).await
    }

    /// The registration of the [`HEADER`] columns `f` of a row (exactly
    /// [`HEADER`]`.len()` fields), with its documents stored; `emergency`
    /// is left `None` for the caller. Shared with the recovery of the
    /// emergency register (`crate::emergenza`).
    pub(crate) async fn row_input(
        &self,
        actor: &Actor,
        docs: ImportDocuments<'_>,
        snap: &crate::PortalSnapshot,
        f: &[String],
    ) -> ServiceResult<RegistrationInput> {
        if f.len() != HEADER.len() {
            return Err(bad(
                "import_columns",
                format!("La riga ha {} colonne invece di {}.", f.len(), HEADER.len()),
            ));
        }
        let get = |i: usize| f[i].trim();
        let opt = |i: usize| Some(get(i)).filter(|s| !s.is_empty()).map(str::to_owned);
        let flow = Flow::parse(get(0)).map_err(|e| ServiceError::invalid(&e))?;
        let fiscal = opt(3);
        let kind = match &fiscal {
            Some(cf) if CodiceFiscale::parse(cf).is_ok() && cf.len() == 16 => {
                CorrespondentKind::PersonaFisica
            }
            Some(_) => CorrespondentKind::PersonaGiuridica,
            None => CorrespondentKind::PersonaFisica,
        };
        let email = opt(4)
            .map(|e| Email::parse(&e))
            .transpose()
            .map_err(|e| ServiceError::invalid(&e))?;
        let correspondent = Correspondent {
            kind,
            name: get(2).to_owned(),
            fiscal_code: fiscal,
            ipa: None,
            email,
            address: None,
            per_conoscenza: false,
        };
        let received_date = opt(6)
            .map(|d| d.parse::<jiff::civil::Date>())
            .transpose()
            .map_err(|_| {
                bad(
                    "import_data",
                    "La data del documento ricevuto va scritta AAAA-MM-GG.",
                )
            })?;
        let office = match opt(8) {
            None => None,
            Some(slug) => Some(
                snap.office_by_slug(&slug)
                    .ok_or_else(|| {
                        bad("office_unknown", format!("L'ufficio «{slug}» non esiste."))
                    })?
                    .id,
            ),
        };
        let primary = self.import_document(actor, docs, get(9)).await?;
        let mut attachments = Vec::new();
        for a in get(10).split('|').map(str::trim).filter(|a| !a.is_empty()) {
            attachments.push(self.import_document(actor, docs, a).await?);
        }
        Ok(RegistrationInput {
            register: None,
            flow,
            subject: get(1).to_owned(),
            correspondents: vec![correspondent],
            received_number: opt(5),
            received_date,
            primary,
            attachments,
            classification: opt(7),
            office,
            emergency: None,
        })
    }

    async fn import_document(
        &self,
        actor: &Actor,
        docs: ImportDocuments<'_>,
        name: &str,
    ) -> ServiceResult<palazzo_store::DocumentRef> {
        actor.require(palazzo_domain::access::Permission::RegisterProtocol)?;
        let base = match docs {
            ImportDocuments::Folder(base) => base,
            ImportDocuments::Uploaded(uploaded) => {
                if name.is_empty() {
                    return Err(bad(
                        "import_documento",
                        "Indica il nome del documento (colonna documento).",
                    ));
                }
                return uploaded.get(name);
            }
        };
        // Only files beside the CSV or below it.
        let rel = Path::new(name);
        if name.is_empty()
            || rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(bad(
                "import_documento",
                format!(
                    "Il documento «{name}» deve essere un percorso relativo alla cartella del file CSV."
                ),
            ));
        }
        let file = tokio::fs::File::open(base.join(rel)).await.map_err(|e| {
            bad(
                "import_documento",
                format!("Il documento «{name}» non si può leggere: {e}."),
            )
        })?;
        let stored = self.documents().put_reader(name, file).await?;
        Ok(stored.to_ref())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_lines() {
        assert_eq!(split_line("a;b;;c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(
            split_line("\"a;b\";\"c \"\"d\"\"\"").unwrap(),
            ["a;b", "c \"d\""]
        );
        assert!(split_line("\"open;x").is_err());
        assert!(split_line("\"a\"b;c").is_err());
        assert_eq!(split_line("").unwrap(), [""]);
    }
}

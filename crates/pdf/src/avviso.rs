//! The pagoPA **avviso di pagamento** (issue 7 part 4): an A4 PDF/A-3u
//! notice laid out after the modules of the pagoPA notice guidelines v3
//! (`taxes-pagopa.md` §4.4):
//!
//! 1. intestazione: the subject of the payment (at most 90 characters) and
//!    the ente, repeated on every page;
//! 2. ente creditore (name, CF, CBILL) and destinatario (CF/P.IVA, name,
//!    address);
//! 3. importo e scadenza (`1.020,99`, `dd/mm/yyyy`), with "Puoi pagare per
//!    intero oppure in N rate" when there are two or more instalments, and
//!    where and how to pay;
//! 4. dati per il pagamento: the **rata unica** first with its QR code, the
//!    codice avviso in groups of four digits (`3010 0000 0000 0001 44`,
//!    §4.1), the ente's CF and CBILL code; then the **rate**, in blocks of
//!    2 or 3 side by side, each with its own QR code; then the
//!    **Bollettino Postale PA** with the Poste Data Matrix (§4.3), only
//!    when the ente has a postal current account.
//!
//! The QR codes are encoded here from the caller's payload (`fast_qr`, ECC
//! level M, version 4 = 33×33 modules, §4.2) and drawn as black vector
//! modules, 25 mm wide, with a quiet zone of at least 4 modules; the Data
//! Matrix (ECC 200, `datamatrix`) likewise, with a 1-module quiet zone or
//! more. The payload strings are built by the caller with the domain's
//! functions (`palazzo_domain::pagopa::qr_payload` and
//! `poste_data_matrix`), so that this crate does not depend on the domain;
//! [`render`] checks that each payload agrees with the printed code, CF
//! and amount, so a notice never prints one thing and encodes another.
//!
//! The ente's logo is not printed: krilla is built without raster image
//! support here (see `Cargo.toml`).

use datamatrix::{DataMatrix, SymbolList};
use jiff::civil::Date;

use crate::canvas::{BLUE, Canvas, GREY, MM, PAGE_H, PAGE_W, TEXT, data, euro, width};
use crate::{Face, Info, PdfError};

/// Left and right margin.
const MX: f32 = 40.0;
const W: f32 = PAGE_W - 2.0 * MX;
/// The printed QR code: 25 × 25 mm (§4.2).
const QR_SIDE: f32 = 25.0 * MM;
/// The printed Data Matrix: about 30 mm (the module follows the size).
const DM_SIDE: f32 = 30.0 * MM;
/// Where the body of a page starts, under the intestazione.
const BODY_TOP: f32 = 118.0;
/// Lowest point of the body, above the footer.
const BODY_BOTTOM: f32 = PAGE_H - 50.0;
/// The subject's limit in the pagoPA print service (§4.4 module 1).
pub const MAX_OGGETTO: usize = 90;

/// The ente creditore (module 2.1).
#[derive(Debug, Clone)]
pub struct EnteCreditore {
    /// The name, e.g. `Comune di Casamassima`.
    pub nome: String,
    /// An optional office line, e.g. `Ufficio Tributi`.
    pub settore: Option<String>,
    /// The ente's codice fiscale, 11 digits.
    pub codice_fiscale: String,
    /// The CBILL code (5 alphanumeric characters) for home banking.
    pub cbill: String,
    /// The postal current account, when the ente has one: the notice then
    /// carries the Bollettino Postale PA (§4.3, §4.4 module 3.2).
    pub conto_postale: Option<ContoPostale>,
}

/// A postal current account of the ente.
#[derive(Debug, Clone)]
pub struct ContoPostale {
    /// The account number, e.g. `16302093`.
    pub numero: String,
    /// The account holder as printed on the bollettino.
    pub intestatario: String,
}

/// The destinatario of the notice (module 2.2).
#[derive(Debug, Clone)]
pub struct Destinatario {
    /// Codice fiscale or partita IVA.
    pub codice_fiscale: String,
    /// Full name or company name.
    pub nome: String,
    /// The address, one printed line each (street, postcode and town).
    pub indirizzo: Vec<String>,
}

/// One payment option: the rata unica or one instalment.
#[derive(Debug, Clone)]
pub struct Pagamento {
    /// The amount in euro cents.
    pub importo: u64,
    /// The due date.
    pub scadenza: Date,
    /// The codice avviso, 18 digits (`taxes-pagopa.md` §4.1).
    pub codice_avviso: String,
    /// The QR payload, `PAGOPA|002|<codice>|<CF ente>|<cents>` (§4.2), as
    /// built by `palazzo_domain::pagopa::qr_payload`.
    pub qr: String,
    /// The 256-character Poste Data Matrix (§4.3), as built by
    /// `palazzo_domain::pagopa::poste_data_matrix`; printed on a
    /// Bollettino Postale PA when the ente has a postal account, and
    /// required then.
    pub data_matrix: Option<String>,
}

/// Everything an avviso di pagamento prints.
#[derive(Debug, Clone)]
pub struct Avviso {
    /// What is being paid, e.g. `TARI 2026 - Tassa sui rifiuti`, at most
    /// [`MAX_OGGETTO`] characters (module 1).
    pub oggetto: String,
    /// The ente creditore.
    pub ente: EnteCreditore,
    /// The destinatario.
    pub destinatario: Destinatario,
    /// The single payment of the whole amount: its amount and due date are
    /// the notice's (module 3.1).
    pub unica: Pagamento,
    /// The instalments, none or at least two.
    pub rate: Vec<Pagamento>,
}

/// The codice avviso as printed: groups of 4 digits separated by spaces,
/// e.g. `3010 0000 0000 0001 44` (`taxes-pagopa.md` §4.1).
#[must_use]
pub fn codice_stampato(codice: &str) -> String {
    let chars: Vec<char> = codice.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How the instalments are grouped in blocks of 3 or 2 per row (§4.4
/// module 3.2): threes, and twos for a remainder (4 = 2 + 2, 5 = 3 + 2,
/// 7 = 3 + 2 + 2).
#[must_use]
pub fn blocchi(n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = n;
    while left > 0 {
        let take = match left {
            1 | 2 => left,
            4 => 2,
            _ => 3,
        };
        out.push(take);
        left -= take;
    }
    out
}

fn invalid(msg: impl Into<String>) -> PdfError {
    PdfError::Invalid(msg.into())
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn check(avviso: &Avviso) -> Result<(), PdfError> {
    if avviso.oggetto.trim().is_empty() || avviso.oggetto.chars().count() > MAX_OGGETTO {
        return Err(invalid(format!(
            "the oggetto must have 1 to {MAX_OGGETTO} characters"
        )));
    }
    let cf = &avviso.ente.codice_fiscale;
    if !digits(cf, 11) {
        return Err(invalid("the ente's codice fiscale must be 11 digits"));
    }
    if avviso.rate.len() == 1 {
        return Err(invalid("a single instalment: use the rata unica alone"));
    }
    for p in std::iter::once(&avviso.unica).chain(&avviso.rate) {
        if !digits(&p.codice_avviso, 18) {
            return Err(invalid(format!(
                "codice avviso `{}` is not 18 digits",
                p.codice_avviso
            )));
        }
        if p.importo == 0 || p.importo > 99_999_999_999 {
            return Err(invalid("amounts go from 0,01 to 999.999.999,99 euro"));
        }
        let qr = format!("PAGOPA|002|{}|{cf}|", p.codice_avviso);
        let amount = p.qr.strip_prefix(&qr).and_then(|a| a.parse::<u64>().ok());
        if amount != Some(p.importo) {
            return Err(invalid(format!(
                "QR payload `{}` does not match codice {}, CF {cf} and {} cents",
                p.qr, p.codice_avviso, p.importo
            )));
        }
        match (&p.data_matrix, &avviso.ente.conto_postale) {
            (Some(dm), Some(_)) => {
                let ok = dm.len() == 256
                    && dm.is_ascii()
                    && dm.get(15..33) == Some(p.codice_avviso.as_str())
                    && dm.get(49..59).and_then(|a| a.parse::<u64>().ok()) == Some(p.importo)
                    && dm.get(66..77) == Some(cf.as_str());
                if !ok {
                    return Err(invalid(format!(
                        "Data Matrix of {} does not match its code, amount and CF ente",
                        p.codice_avviso
                    )));
                }
            }
            (None, Some(_)) => {
                return Err(invalid(format!(
                    "the ente has a postal account: {} needs its Data Matrix",
                    p.codice_avviso
                )));
            }
            (Some(_), None) => {
                return Err(invalid("a Data Matrix without the ente's postal account"));
            }
            (None, None) => {}
        }
    }
    Ok(())
}

/// The QR matrix of a payload: ECC M, version 4 (33 × 33), §4.2.
fn qr_modules(payload: &str) -> Result<(usize, Vec<bool>), PdfError> {
    let code = fast_qr::QRBuilder::new(payload)
        .ecl(fast_qr::ECL::M)
        .version(fast_qr::Version::V04)
        .build()
        .map_err(|_| PdfError::Qr("the pagoPA payload does not fit a version 4 QR"))?;
    let n = code.size;
    Ok((n, (0..n * n).map(|i| code.data[i].value()).collect()))
}

/// Renders the avviso di pagamento as a PDF/A-3u file.
///
/// # Errors
/// [`PdfError::Invalid`] when a code, CF, amount or payload is malformed or
/// a payload disagrees with what is printed, [`PdfError::Qr`] when a QR
/// cannot be encoded, [`PdfError::Export`] if krilla refuses the file.
pub fn render(avviso: &Avviso, info: &Info) -> Result<Vec<u8>, PdfError> {
    check(avviso)?;
    let mut c = Canvas::new();
    intestazione(&mut c, avviso)?;
    let mut y = BODY_TOP;
    y = parti(&mut c, avviso, y)?;
    y = importo(&mut c, avviso, y + 14.0)?;
    y = dove(&mut c, y + 12.0)?;
    rata_unica(&mut c, avviso, y + 10.0)?;
    if !avviso.rate.is_empty() {
        rate(&mut c, avviso)?;
    }
    if let Some(conto) = &avviso.ente.conto_postale {
        bollettini(&mut c, avviso, conto)?;
    }
    let ente = avviso.ente.nome.clone();
    c.on_every_page(MX, PAGE_H - 28.0, 7.5, |n, total| {
        format!("{ente} — Avviso di pagamento pagoPA — Pagina {n} di {total}")
    });
    c.finish(info)
}

/// Module 1, on the current page.
fn intestazione(c: &mut Canvas, a: &Avviso) -> Result<(), PdfError> {
    c.text(MX, 46.0, Face::Bold, 9.0, BLUE, "AVVISO DI PAGAMENTO");
    c.text_right(MX + W, 46.0, Face::Bold, 9.0, TEXT, &a.ente.nome)?;
    c.paragraph(MX, 70.0, W, Face::Bold, 15.0, 18.0, TEXT, &a.oggetto)?;
    c.fill_rect(MX, 104.0, W, 1.2, BLUE);
    Ok(())
}

fn new_page(c: &mut Canvas, a: &Avviso) -> Result<f32, PdfError> {
    c.new_page();
    intestazione(c, a)?;
    Ok(BODY_TOP)
}

fn label(c: &mut Canvas, x: f32, y: f32, text: &str) {
    c.text(x, y, Face::Bold, 8.0, BLUE, text);
}

/// Module 2: ente creditore and destinatario side by side.
fn parti(c: &mut Canvas, a: &Avviso, y: f32) -> Result<f32, PdfError> {
    let col = (W - 12.0) / 2.0;
    let x2 = MX + col + 12.0;
    label(c, MX, y + 8.0, "ENTE CREDITORE");
    label(c, x2, y + 8.0, "DESTINATARIO AVVISO");
    let mut y1 = c.paragraph(
        MX,
        y + 24.0,
        col,
        Face::Bold,
        11.0,
        13.5,
        TEXT,
        &a.ente.nome,
    )?;
    if let Some(s) = &a.ente.settore {
        y1 = c.paragraph(MX, y1, col, Face::Regular, 9.0, 12.0, TEXT, s)?;
    }
    c.text(
        MX,
        y1,
        Face::Regular,
        9.0,
        TEXT,
        &format!("Codice Fiscale {}", a.ente.codice_fiscale),
    );
    let y1 = y1 + 12.0;
    let d = &a.destinatario;
    let mut y2 = c.paragraph(x2, y + 24.0, col, Face::Bold, 11.0, 13.5, TEXT, &d.nome)?;
    c.text(
        x2,
        y2,
        Face::Regular,
        9.0,
        TEXT,
        &format!("Codice Fiscale {}", d.codice_fiscale),
    );
    y2 += 12.0;
    for line in &d.indirizzo {
        y2 = c.paragraph(x2, y2, col, Face::Regular, 9.0, 12.0, TEXT, line)?;
    }
    Ok(y1.max(y2))
}

/// Module 3.1: amount, due date, instalments.
fn importo(c: &mut Canvas, a: &Avviso, y: f32) -> Result<f32, PdfError> {
    label(c, MX, y, "QUANTO E QUANDO PAGARE?");
    let line = format!(
        "{} Euro entro il {}",
        euro(a.unica.importo),
        data(a.unica.scadenza)
    );
    c.text(MX, y + 22.0, Face::Bold, 16.0, TEXT, &line);
    let mut y = y + 40.0;
    if a.rate.len() >= 2 {
        c.text(
            MX,
            y,
            Face::Bold,
            10.0,
            TEXT,
            &format!("Puoi pagare per intero oppure in {} rate.", a.rate.len()),
        );
        y += 14.0;
    }
    c.paragraph(
        MX,
        y,
        W,
        Face::Regular,
        8.5,
        11.0,
        TEXT,
        "L'importo è aggiornato automaticamente dal sistema e potrebbe subire variazioni per \
         eventuali sgravi, note di credito, indennità di mora, sanzioni o interessi. Un \
         operatore, il sito o l'app che userai ti potrebbero quindi chiedere una cifra diversa \
         da quella qui indicata.",
    )
}

/// Where and how to pay.
fn dove(c: &mut Canvas, y: f32) -> Result<f32, PdfError> {
    label(c, MX, y, "DOVE PAGARE?");
    let col = (W - 12.0) / 2.0;
    let x2 = MX + col + 12.0;
    c.text(
        MX,
        y + 16.0,
        Face::Bold,
        9.5,
        TEXT,
        "PAGA SUL SITO O CON LE APP",
    );
    let y1 = c.paragraph(
        MX,
        y + 29.0,
        col,
        Face::Regular,
        8.5,
        11.0,
        TEXT,
        "del tuo Ente Creditore, della tua Banca o degli altri canali di pagamento abilitati \
         a pagoPA. Potrai pagare con carte, conto corrente o CBILL.",
    )?;
    c.text(x2, y + 16.0, Face::Bold, 9.5, TEXT, "PAGA SUL TERRITORIO");
    let y2 = c.paragraph(
        x2,
        y + 29.0,
        col,
        Face::Regular,
        8.5,
        11.0,
        TEXT,
        "in Banca, negli Uffici Postali, in Ricevitoria, dal Tabaccaio, al Bancomat o al \
         Supermercato. Potrai pagare in contanti, con carte o conto corrente.",
    )?;
    let y = c.paragraph(
        MX,
        y1.max(y2) + 2.0,
        W,
        Face::Regular,
        8.5,
        11.0,
        TEXT,
        "Utilizza la porzione di avviso relativa alla rata e al canale di pagamento che \
         preferisci: inquadra il codice QR con l'app del tuo canale o inserisci il codice \
         avviso e il codice fiscale dell'ente creditore.",
    )?;
    Ok(y)
}

/// Module 3.2, first part: the rata unica with its QR, on page 1.
fn rata_unica(c: &mut Canvas, a: &Avviso, y: f32) -> Result<(), PdfError> {
    let title = if a.rate.is_empty() {
        format!("RATA UNICA entro il {}", data(a.unica.scadenza))
    } else {
        format!(
            "RATA UNICA entro il {} — oppure in {} rate (pagine seguenti)",
            data(a.unica.scadenza),
            a.rate.len()
        )
    };
    let h = 150.0;
    c.fill_rect(MX, y, W, 16.0, BLUE);
    c.text(MX + 6.0, y + 11.5, Face::Bold, 9.0, (255, 255, 255), &title);
    c.frame(MX, y, W, h, 0.8, BLUE);
    let p = &a.unica;
    let top = y + 16.0;
    let (n, dark) = qr_modules(&p.qr)?;
    let module = QR_SIDE / n as f32;
    // Quiet zone: 4 modules from the frame and from the text (§4.2).
    let qx = MX + 6.0 * module;
    let qy = top + 8.0 * module;
    c.symbol(qx, qy, module, n, &dark);
    c.text(MX + 6.0, top + 122.0, Face::Bold, 9.0, BLUE, "pagoPA");
    let x = qx + QR_SIDE + 6.0 * module;
    let rows = [
        ("Destinatario", a.destinatario.nome.as_str()),
        ("Ente Creditore", a.ente.nome.as_str()),
        ("Oggetto del pagamento", a.oggetto.as_str()),
    ];
    let mut ty = top + 16.0;
    for (l, v) in rows {
        c.text(x, ty, Face::Regular, 8.0, GREY, l);
        c.text(
            x + 100.0,
            ty,
            Face::Bold,
            8.5,
            TEXT,
            &clip(v, W - (x - MX) - 110.0)?,
        );
        ty += 13.0;
    }
    let codes = [
        ("Codice CBILL", a.ente.cbill.clone()),
        ("Codice Avviso", codice_stampato(&p.codice_avviso)),
        ("Cod. Fiscale Ente Creditore", a.ente.codice_fiscale.clone()),
    ];
    ty += 6.0;
    for (l, v) in codes {
        c.text(x, ty, Face::Regular, 8.0, GREY, l);
        c.text(x, ty + 12.0, Face::Bold, 11.0, TEXT, &v);
        ty += 28.0;
    }
    c.text_right(
        MX + W - 10.0,
        top + 122.0,
        Face::Bold,
        14.0,
        TEXT,
        &format!("Euro {}", euro(p.importo)),
    )?;
    Ok(())
}

/// Cuts `text` to fit `w` points, ending with `…` when cut.
fn clip(text: &str, w: f32) -> Result<String, PdfError> {
    if width(Face::Bold, 8.5, text)? <= w {
        return Ok(text.to_owned());
    }
    let mut out = String::new();
    for ch in text.chars() {
        let next = format!("{out}{ch}…");
        if width(Face::Bold, 8.5, &next)? > w {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    Ok(out)
}

/// Module 3.2, second part: the instalments, 2 or 3 per block, three
/// blocks per page.
fn rate(c: &mut Canvas, a: &Avviso) -> Result<(), PdfError> {
    let total = a.rate.len();
    let block_h = 200.0;
    let mut y = new_page(c, a)?;
    label(c, MX, y, &format!("PAGA IN {total} RATE"));
    y += 10.0;
    let mut index = 0;
    for k in blocchi(total) {
        if y + block_h > BODY_BOTTOM {
            y = new_page(c, a)?;
        }
        let col = W / k as f32;
        for j in 0..k {
            let p = &a.rate[index];
            index += 1;
            let x = MX + j as f32 * col;
            let inner = col - 8.0;
            c.frame(x + 2.0, y, inner + 4.0, block_h - 8.0, 0.8, BLUE);
            c.fill_rect(x + 2.0, y, inner + 4.0, 16.0, BLUE);
            c.text(
                x + 8.0,
                y + 11.5,
                Face::Bold,
                8.5,
                (255, 255, 255),
                &format!("RATA {index} di {total} entro il {}", data(p.scadenza)),
            );
            c.text(
                x + 8.0,
                y + 32.0,
                Face::Bold,
                12.0,
                TEXT,
                &format!("Euro {}", euro(p.importo)),
            );
            let (n, dark) = qr_modules(&p.qr)?;
            let module = QR_SIDE / n as f32;
            let qy = y + 32.0 + 4.0 * module + 2.0;
            c.symbol(x + 8.0 + 4.0 * module, qy, module, n, &dark);
            let mut ty = qy + QR_SIDE + 4.0 * module + 8.0;
            for (l, v) in [
                ("Codice Avviso", codice_stampato(&p.codice_avviso)),
                ("Cod. Fiscale Ente Creditore", a.ente.codice_fiscale.clone()),
                ("Codice CBILL", a.ente.cbill.clone()),
            ] {
                c.text(x + 8.0, ty, Face::Regular, 7.5, GREY, l);
                c.text(x + 8.0, ty + 11.0, Face::Bold, 10.0, TEXT, &v);
                ty += 22.0;
            }
        }
        y += block_h;
    }
    Ok(())
}

/// Module 3.2, last part: a Bollettino Postale PA per payment option, with
/// the Poste Data Matrix (§4.3).
fn bollettini(c: &mut Canvas, a: &Avviso, conto: &ContoPostale) -> Result<(), PdfError> {
    let h = 205.0;
    let mut y = new_page(c, a)?;
    label(c, MX, y, "BOLLETTINO POSTALE PA");
    y += 10.0;
    let total = a.rate.len();
    let all = std::iter::once((None, &a.unica))
        .chain(a.rate.iter().enumerate().map(|(i, p)| (Some(i + 1), p)));
    for (n, p) in all {
        let Some(dm) = &p.data_matrix else { continue };
        if y + h > BODY_BOTTOM {
            y = new_page(c, a)?;
        }
        let title = match n {
            None => format!("RATA UNICA entro il {}", data(p.scadenza)),
            Some(i) => format!("RATA {i} di {total} entro il {}", data(p.scadenza)),
        };
        c.fill_rect(MX, y, W, 16.0, BLUE);
        c.text(
            MX + 6.0,
            y + 11.5,
            Face::Bold,
            9.0,
            (255, 255, 255),
            &format!("BOLLETTINO POSTALE PA — {title}"),
        );
        c.frame(MX, y, W, h - 8.0, 0.8, BLUE);
        let code = DataMatrix::encode(dm.as_bytes(), SymbolList::default().enforce_square())
            .map_err(|_| PdfError::Qr("the Poste Data Matrix cannot be encoded"))?;
        let bitmap = code.bitmap();
        let n = bitmap.width();
        let mut dark = vec![false; n * bitmap.height()];
        for (x, y) in bitmap.pixels() {
            dark[y * n + x] = true;
        }
        let module = DM_SIDE / n as f32;
        let dx = MX + 14.0;
        let dy = y + 30.0;
        c.symbol(dx, dy, module, n, &dark);
        c.text(
            dx,
            dy + DM_SIDE + 16.0,
            Face::Bold,
            9.0,
            BLUE,
            "Poste Italiane",
        );
        let x = dx + DM_SIDE + 24.0;
        let mut ty = y + 34.0;
        let rows = [
            ("sul C/C n.", conto.numero.clone()),
            ("Intestato a", conto.intestatario.clone()),
            ("Destinatario", a.destinatario.nome.clone()),
            ("Oggetto del pagamento", a.oggetto.clone()),
            ("Codice Avviso", codice_stampato(&p.codice_avviso)),
            ("Tipo documento", "896".to_owned()),
            ("Cod. Fiscale Ente Creditore", a.ente.codice_fiscale.clone()),
        ];
        for (l, v) in rows {
            c.text(x, ty, Face::Regular, 8.0, GREY, l);
            c.text(
                x + 120.0,
                ty,
                Face::Bold,
                9.0,
                TEXT,
                &clip(&v, W - (x - MX) - 130.0)?,
            );
            ty += 16.0;
        }
        c.text_right(
            MX + W - 10.0,
            ty + 14.0,
            Face::Bold,
            14.0,
            TEXT,
            &format!("Euro {}", euro(p.importo)),
        )?;
        y += h;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_of_four() {
        assert_eq!(
            codice_stampato("301000000000000144"),
            "3010 0000 0000 0001 44"
        );
    }

    #[test]
    fn blocks_of_two_or_three() {
        assert_eq!(blocchi(2), vec![2]);
        assert_eq!(blocchi(3), vec![3]);
        assert_eq!(blocchi(4), vec![2, 2]);
        assert_eq!(blocchi(5), vec![3, 2]);
        assert_eq!(blocchi(6), vec![3, 3]);
        assert_eq!(blocchi(7), vec![3, 2, 2]);
        assert_eq!(blocchi(10), vec![3, 3, 2, 2]);
    }
}

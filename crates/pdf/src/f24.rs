//! The Agenzia delle Entrate's **F24 semplificato**, pre-filled (issue 7
//! part 5; `taxes-pagopa.md` §5.1).
//!
//! Each A4 page is one form with its two copies, as on the official
//! model: "copia per il soggetto che effettua il versamento" above and
//! "copia per la banca/poste/agente della riscossione" (with the FIRMA
//! box) below. Each copy has the CONTRIBUENTE section (codice fiscale,
//! cognome/denominazione, nome, dati anagrafici), the MOTIVO DEL
//! PAGAMENTO grid with its ten lines and the official column order
//! (sezione, cod. tributo, codice ente, ravv., immob. variati, acc., saldo,
//! num. immob., rateazione/mese rif., anno di riferimento, detrazione,
//! importi a debito versati, importi a credito compensati), the SALDO
//! FINALE and the ESTREMI DEL VERSAMENTO left to the bank. More than
//! [`RIGHI_PER_MODELLO`] lines go onto more forms (pages), each with its
//! own totals, since each form is a payment of its own.
//!
//! Amounts are printed as the form's cells want them: euro, a comma and
//! two decimals, without thousands separators (`918,00`); ticked boxes
//! carry an `X`. The lines are usually built by
//! `palazzo_domain::tributi::f24::da_imu` (whole euro already).

use jiff::civil::Date;

use crate::canvas::{BLACK, Canvas, GREY, PAGE_H, PAGE_W, TEXT, data, width};
use crate::{Face, Info, PdfError};

/// Lines in the "motivo del pagamento" section of one form.
pub const RIGHI_PER_MODELLO: usize = 10;

const MX: f32 = 28.0;
const W: f32 = PAGE_W - 2.0 * MX;
const ROW_H: f32 = 13.0;
/// Height of one copy of the form.
const COPY_H: f32 = 385.0;

/// The contribuente.
#[derive(Debug, Clone)]
pub struct Contribuente {
    /// Codice fiscale (16 characters) or partita IVA (11 digits).
    pub codice_fiscale: String,
    /// Cognome, denominazione o ragione sociale.
    pub cognome: String,
    /// Nome (people only).
    pub nome: Option<String>,
    /// Dati anagrafici (people only, optional on a pre-filled form).
    pub nascita: Option<Nascita>,
}

/// Birth data of a person.
#[derive(Debug, Clone)]
pub struct Nascita {
    /// Date of birth.
    pub data: Date,
    /// `M` or `F`.
    pub sesso: char,
    /// Comune (or foreign State) of birth.
    pub comune: String,
    /// Provincia, two letters (`EE` abroad).
    pub provincia: String,
}

/// One line of the "motivo del pagamento" section (§5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rigo {
    /// `EL` (enti locali), `ER`, `RG`.
    pub sezione: String,
    /// Codice tributo, e.g. `3918`.
    pub codice_tributo: String,
    /// Codice ente: the comune's codice catastale, e.g. `B923`.
    pub codice_ente: String,
    /// Box "Ravv.".
    pub ravvedimento: bool,
    /// Box "Immob. variati".
    pub immobili_variati: bool,
    /// Box "Acc.".
    pub acconto: bool,
    /// Box "Saldo".
    pub saldo: bool,
    /// Numero immobili, up to 3 digits; `0` leaves the cell empty.
    pub numero_immobili: u16,
    /// Rateazione/mese di riferimento (e.g. `0101`), usually empty for IMU.
    pub rateazione: String,
    /// Anno di riferimento.
    pub anno: i16,
    /// Detrazione in cents (3912 only); `0` leaves the cell empty.
    pub detrazione: u64,
    /// Importo a debito versato, in cents.
    pub debito: u64,
    /// Importo a credito compensato, in cents.
    pub credito: u64,
}

/// A pre-filled F24 semplificato.
#[derive(Debug, Clone)]
pub struct F24 {
    /// Who pays.
    pub contribuente: Contribuente,
    /// The "identificativo operazione", when the ente gives one.
    pub identificativo_operazione: Option<String>,
    /// The lines; [`RIGHI_PER_MODELLO`] per form.
    pub righi: Vec<Rigo>,
}

/// An amount as the form's cells want it: `918,00`, `12345,67`.
#[must_use]
pub fn importo(cents: u64) -> String {
    format!("{},{:02}", cents / 100, cents % 100)
}

/// Renders the form(s): one page per [`RIGHI_PER_MODELLO`] lines.
///
/// # Errors
/// [`PdfError::Invalid`] with no lines, a field too long for its cell, or a
/// form whose credits exceed its debits (an F24 cannot end in credit);
/// [`PdfError::Export`] if krilla refuses the file.
pub fn render(f24: &F24, info: &Info) -> Result<Vec<u8>, PdfError> {
    if f24.righi.is_empty() {
        return Err(PdfError::Invalid("an F24 needs at least one line".into()));
    }
    for r in &f24.righi {
        if r.sezione.len() > 2
            || r.codice_tributo.len() > 4
            || r.codice_ente.len() > 4
            || r.rateazione.len() > 4
            || r.numero_immobili > 999
            || !(0..=9999).contains(&r.anno)
        {
            return Err(PdfError::Invalid(format!(
                "F24 line {} {} does not fit the form's cells",
                r.codice_tributo, r.codice_ente
            )));
        }
    }
    let mut c = Canvas::new();
    for (i, righi) in f24.righi.chunks(RIGHI_PER_MODELLO).enumerate() {
        let debito: u64 = righi.iter().map(|r| r.debito).sum();
        let credito: u64 = righi.iter().map(|r| r.credito).sum();
        if credito > debito {
            return Err(PdfError::Invalid(
                "the saldo finale of an F24 cannot be negative".into(),
            ));
        }
        if i > 0 {
            c.new_page();
        }
        copia(
            &mut c,
            f24,
            righi,
            (debito, credito),
            24.0,
            "COPIA PER IL SOGGETTO CHE EFFETTUA IL VERSAMENTO",
            false,
        )?;
        // The cut line between the copies.
        for k in 0..60 {
            c.fill_rect(
                MX + k as f32 * W / 60.0,
                24.0 + COPY_H + 5.0,
                4.0,
                0.5,
                GREY,
            );
        }
        copia(
            &mut c,
            f24,
            righi,
            (debito, credito),
            24.0 + COPY_H + 12.0,
            "COPIA PER LA BANCA/POSTE/AGENTE DELLA RISCOSSIONE",
            true,
        )?;
    }
    c.on_every_page(MX, PAGE_H - 14.0, 6.5, |n, total| {
        format!("Modello F24 semplificato precompilato — modulo {n} di {total}")
    });
    c.finish(info)
}

/// A cell: its frame, its small caption at the top and its value.
#[allow(clippy::too_many_arguments)]
fn cell(c: &mut Canvas, x: f32, y: f32, w: f32, h: f32, caption: &str, value: &str) {
    c.frame(x, y, w, h, 0.5, BLACK);
    c.text(x + 2.0, y + 6.5, Face::Regular, 5.5, GREY, caption);
    c.text(x + 3.0, y + h - 3.5, Face::Bold, 9.0, TEXT, value);
}

/// Section heading on a black band.
fn band(c: &mut Canvas, x: f32, y: f32, w: f32, text: &str) {
    c.fill_rect(x, y, w, 10.0, BLACK);
    c.text(x + 3.0, y + 7.5, Face::Bold, 7.0, (255, 255, 255), text);
}

fn copia(
    c: &mut Canvas,
    f24: &F24,
    righi: &[Rigo],
    (debito, credito): (u64, u64),
    top: f32,
    copy: &str,
    firma: bool,
) -> Result<(), PdfError> {
    // Header.
    c.text(
        MX,
        top + 10.0,
        Face::Bold,
        11.0,
        TEXT,
        "Mod. F24 Semplificato",
    );
    c.text(
        MX,
        top + 20.0,
        Face::Regular,
        7.0,
        TEXT,
        "Agenzia delle Entrate",
    );
    c.text_right(MX + W, top + 8.0, Face::Bold, 7.5, TEXT, copy)?;
    c.text_centre(
        MX + W / 2.0,
        top + 10.0,
        Face::Bold,
        8.0,
        TEXT,
        "MODELLO DI PAGAMENTO UNIFICATO",
    )?;
    c.text(
        MX + 150.0,
        top + 22.0,
        Face::Regular,
        6.5,
        TEXT,
        "DELEGA IRREVOCABILE A: ______________________  AGENZIA ____________  PROV. ____",
    );
    c.text(
        MX + 150.0,
        top + 30.0,
        Face::Regular,
        6.5,
        TEXT,
        "PER L'ACCREDITO ALLA TESORERIA COMPETENTE",
    );

    // Contribuente.
    let mut y = top + 36.0;
    band(c, MX, y, W, "CONTRIBUENTE");
    y += 11.0;
    let p = &f24.contribuente;
    cell(c, MX, y, 200.0, 20.0, "CODICE FISCALE", &p.codice_fiscale);
    cell(c, MX + 200.0, y, 170.0, 20.0, "codice ufficio", "");
    cell(c, MX + 370.0, y, W - 370.0, 20.0, "codice atto", "");
    y += 20.0;
    cell(
        c,
        MX,
        y,
        300.0,
        20.0,
        "cognome, denominazione o ragione sociale",
        &p.cognome,
    );
    cell(
        c,
        MX + 300.0,
        y,
        W - 300.0,
        20.0,
        "nome",
        p.nome.as_deref().unwrap_or(""),
    );
    y += 20.0;
    let (nato, sesso, comune, prov) = match &p.nascita {
        Some(n) => (
            data(n.data),
            n.sesso.to_string(),
            n.comune.clone(),
            n.provincia.clone(),
        ),
        None => Default::default(),
    };
    c.text(MX + 2.0, y + 8.0, Face::Bold, 6.0, TEXT, "DATI ANAGRAFICI");
    cell(
        c,
        MX + 60.0,
        y,
        110.0,
        20.0,
        "data di nascita (giorno mese anno)",
        &nato,
    );
    cell(c, MX + 170.0, y, 50.0, 20.0, "sesso (M o F)", &sesso);
    cell(
        c,
        MX + 220.0,
        y,
        250.0,
        20.0,
        "comune (o Stato estero) di nascita",
        &comune,
    );
    cell(c, MX + 470.0, y, W - 470.0, 20.0, "prov.", &prov);
    y += 20.0;
    cell(
        c,
        MX,
        y,
        370.0,
        20.0,
        "CODICE FISCALE del coobbligato, erede, genitore, tutore o curatore fallimentare",
        "",
    );
    cell(
        c,
        MX + 370.0,
        y,
        W - 370.0,
        20.0,
        "codice identificativo",
        "",
    );
    y += 24.0;

    // Motivo del pagamento.
    band(c, MX, y, 300.0, "MOTIVO DEL PAGAMENTO");
    c.text(
        MX + 310.0,
        y + 7.5,
        Face::Bold,
        6.5,
        TEXT,
        "IDENTIFICATIVO OPERAZIONE",
    );
    c.text(
        MX + 410.0,
        y + 8.0,
        Face::Bold,
        9.0,
        TEXT,
        f24.identificativo_operazione.as_deref().unwrap_or(""),
    );
    y += 12.0;
    // (caption lines, width, right-aligned)
    let cols: [(&[&str], f32, bool); 13] = [
        (&["Sezione"], 30.0, false),
        (&["cod.", "tributo"], 36.0, false),
        (&["codice", "ente"], 36.0, false),
        (&["ravv."], 22.0, false),
        (&["immob.", "variati"], 26.0, false),
        (&["acc."], 22.0, false),
        (&["saldo"], 24.0, false),
        (&["num.", "immob."], 28.0, false),
        (&["rateazione/", "mese rif."], 42.0, false),
        (&["anno di", "riferimento"], 40.0, false),
        (&["detrazione"], 58.0, true),
        (&["importi a debito", "versati"], 88.5, true),
        (&["importi a credito", "compensati"], 88.5, true),
    ];
    let header_h = 18.0;
    let mut x = MX;
    for (caption, w, _) in cols {
        c.frame(x, y, w, header_h, 0.5, BLACK);
        for (k, line) in caption.iter().enumerate() {
            c.text(
                x + 2.0,
                y + 7.0 + k as f32 * 7.0,
                Face::Regular,
                5.8,
                TEXT,
                line,
            );
        }
        x += w;
    }
    y += header_h;
    let tick = |b: bool| if b { "X".to_owned() } else { String::new() };
    for i in 0..RIGHI_PER_MODELLO {
        let values: [String; 13] = match righi.get(i) {
            Some(r) => [
                r.sezione.clone(),
                r.codice_tributo.clone(),
                r.codice_ente.clone(),
                tick(r.ravvedimento),
                tick(r.immobili_variati),
                tick(r.acconto),
                tick(r.saldo),
                if r.numero_immobili > 0 {
                    r.numero_immobili.to_string()
                } else {
                    String::new()
                },
                r.rateazione.clone(),
                format!("{:04}", r.anno),
                if r.detrazione > 0 {
                    importo(r.detrazione)
                } else {
                    String::new()
                },
                importo(r.debito),
                if r.credito > 0 {
                    importo(r.credito)
                } else {
                    String::new()
                },
            ],
            None => Default::default(),
        };
        let mut x = MX;
        for ((_, w, right), v) in cols.iter().zip(values.iter()) {
            c.frame(x, y, *w, ROW_H, 0.4, BLACK);
            if *right {
                c.text_right(x + w - 3.0, y + ROW_H - 3.5, Face::Bold, 8.5, TEXT, v)?;
                if v.is_empty() {
                    // The decimal comma printed in empty amount cells.
                    c.text_right(x + w - 14.0, y + ROW_H - 3.5, Face::Regular, 8.5, GREY, ",")?;
                }
            } else {
                let cx = x + (w - width(Face::Bold, 8.5, v)?) / 2.0;
                c.text(cx, y + ROW_H - 3.5, Face::Bold, 8.5, TEXT, v);
            }
            x += w;
        }
        y += ROW_H;
    }
    // Totals under the amount columns, then the saldo finale.
    let deb_x = MX + W - 177.0;
    let cre_x = MX + W - 88.5;
    c.text(deb_x - 40.0, y + 10.0, Face::Bold, 7.0, TEXT, "TOTALE");
    c.frame(deb_x, y, 88.5, ROW_H, 0.5, BLACK);
    c.frame(cre_x, y, 88.5, ROW_H, 0.5, BLACK);
    c.text_right(
        deb_x + 85.5,
        y + ROW_H - 3.5,
        Face::Bold,
        8.5,
        TEXT,
        &importo(debito),
    )?;
    c.text_right(
        cre_x + 85.5,
        y + ROW_H - 3.5,
        Face::Bold,
        8.5,
        TEXT,
        &importo(credito),
    )?;
    y += ROW_H + 3.0;
    c.text(
        deb_x - 40.0,
        y + 11.0,
        Face::Bold,
        7.0,
        TEXT,
        "SALDO FINALE",
    );
    c.text(deb_x + 40.0, y + 11.0, Face::Bold, 7.0, TEXT, "EURO  +");
    c.frame(cre_x, y, 88.5, ROW_H + 2.0, 0.9, BLACK);
    c.text_right(
        cre_x + 85.5,
        y + ROW_H - 2.5,
        Face::Bold,
        9.5,
        TEXT,
        &importo(debito - credito),
    )?;
    y += ROW_H + 8.0;

    // Estremi del versamento: left to the bank, Poste or agent.
    band(
        c,
        MX,
        y,
        W,
        "ESTREMI DEL VERSAMENTO (DA COMPILARE A CURA DI BANCA/POSTE/AGENTE DELLA RISCOSSIONE)",
    );
    y += 11.0;
    cell(c, MX, y, 120.0, 22.0, "DATA (giorno mese anno)", "");
    cell(
        c,
        MX + 120.0,
        y,
        220.0,
        22.0,
        "CODICE BANCA/POSTE/AGENTE DELLA RISCOSSIONE (AZIENDA, CAB/SPORTELLO)",
        "",
    );
    if firma {
        cell(c, MX + 340.0, y, W - 340.0, 22.0, "FIRMA", "");
    } else {
        cell(
            c,
            MX + 340.0,
            y,
            W - 340.0,
            22.0,
            "Pagamento effettuato con assegno bancario/postale, circolare/vaglia postale",
            "",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_the_form_wants() {
        assert_eq!(importo(91_800), "918,00");
        assert_eq!(importo(5), "0,05");
        assert_eq!(importo(123_456_789), "1234567,89");
    }
}

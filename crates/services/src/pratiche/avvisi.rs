//! The e-mails of a pratica (C.SE.1.2: the confirmation of submission in
//! the personal area **and** by another channel): queued in the outbox in
//! the same transaction as the step they announce, so that a step is never
//! announced without happening, nor happens without being announced.

use jiff::civil::Date;
use palazzo_domain::procedimento::Azione;
use palazzo_store::{MailRelated, NewMail, Pratica, Registration, Tenant};

/// The link to a pratica in the personal area, on the comune's first host.
fn link(t: &Tenant, p: &Pratica) -> String {
    match t.data.hostnames.first() {
        Some(h) => format!("https://{h}/area-personale/pratiche/{}", p.id.0),
        None => format!("Area personale › Le mie pratiche › n. {}", p.id.0),
    }
}

fn date(d: Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

const FOOTER: &str =
    "Questo messaggio è stato inviato automaticamente: per rispondere usa l'area personale.";

/// The receipt of a submitted istanza (art. 18-bis L. 241/1990, PROC-02):
/// protocol number and time, office, deadline, silenzio-assenso.
pub(crate) fn ricevuta(
    t: &Tenant,
    p: &Pratica,
    reg: &Registration,
    service_title: &str,
    office: &str,
    silenzio_assenso: bool,
) -> Option<NewMail> {
    let to = p.data.applicant_email.clone()?;
    let when = reg
        .registered_at
        .to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%d/%m/%Y alle %H:%M")
        .to_string();
    let mut text = format!(
        "Gentile {},\n\nil {} ha ricevuto la tua istanza «{}».\n\n\
         Protocollo: n. {}/{} del {when}\nUfficio competente: {office}\n",
        p.data.applicant_name, t.data.name, service_title, reg.number, reg.year
    );
    if let Some(d) = p.data.deadline {
        text.push_str(&format!(
            "Il procedimento deve concludersi entro il {}.\n",
            date(d)
        ));
    }
    if silenzio_assenso {
        text.push_str(
            "Se entro quella data non ricevi un provvedimento di diniego, la domanda si intende accolta (silenzio-assenso, art. 20 della legge 241/1990).\n",
        );
    }
    text.push_str(&format!(
        "\nPuoi seguire lo stato della pratica e scaricarne i documenti qui:\n{}\n\n{FOOTER}\n",
        link(t, p)
    ));
    Some(NewMail {
        recipient: to,
        subject: format!(
            "Ricevuta: {service_title} – protocollo n. {}/{}",
            reg.number, reg.year
        ),
        text_body: text,
        html_body: None,
        reply_to: None,
        related: Some(MailRelated {
            kind: "pratica".into(),
            id: p.id.0,
        }),
    })
}

/// The notice of a step the applicant must know about (a request, a
/// notice, the measure, a conclusion by the passing of time), or `None`.
pub(crate) fn passo(
    t: &Tenant,
    p: &Pratica,
    action: Azione,
    note: Option<&str>,
) -> Option<NewMail> {
    let what = match action {
        Azione::RichiestaIntegrazione => "il Comune ti chiede di integrare la domanda",
        Azione::PreavvisoRigetto => {
            "il Comune ti comunica i motivi che ostano all'accoglimento della domanda (art. 10-bis della legge 241/1990): hai 10 giorni per presentare osservazioni"
        }
        Azione::Accoglimento => "la tua domanda è stata accolta",
        Azione::Rigetto => "la tua domanda è stata respinta",
        Azione::Improcedibilita | Azione::DecorrenzaIntegrazione => {
            "la tua domanda è stata chiusa come improcedibile"
        }
        Azione::DivietoProsecuzione | Azione::Autotutela => {
            "il Comune ha vietato la prosecuzione dell'attività segnalata"
        }
        Azione::SilenzioAssenso => {
            "il termine è decorso senza un provvedimento di diniego: la domanda si intende accolta (silenzio-assenso)"
        }
        _ => return None,
    };
    let to = p.data.applicant_email.clone()?;
    let mut text = format!(
        "Gentile {},\n\nper la pratica «{}» {what}.\n",
        p.data.applicant_name, p.data.subject
    );
    if let Some(n) = note {
        text.push_str(&format!("\n{n}\n"));
    }
    text.push_str(&format!(
        "\nTrovi il documento e le azioni possibili nell'area personale:\n{}\n\n{FOOTER}\n",
        link(t, p)
    ));
    Some(NewMail {
        recipient: to,
        subject: format!("Aggiornamento della pratica: {}", p.data.subject),
        text_body: text,
        html_body: None,
        reply_to: None,
        related: Some(MailRelated {
            kind: "pratica".into(),
            id: p.id.0,
        }),
    })
}

/// A message of the office to the applicant, announced by e-mail (the
/// text is in the personal area too).
pub(crate) fn messaggio(t: &Tenant, p: &Pratica, text: &str) -> Option<NewMail> {
    let to = p.data.applicant_email.clone()?;
    let text = format!(
        "Gentile {},\n\nper la pratica «{}» l'ufficio ti ha scritto:\n\n{text}\n\n\
         Puoi rispondere dall'area personale:\n{}\n\n{FOOTER}\n",
        p.data.applicant_name,
        p.data.subject,
        link(t, p)
    );
    Some(NewMail {
        recipient: to,
        subject: format!("Nuovo messaggio sulla pratica: {}", p.data.subject),
        text_body: text,
        html_body: None,
        reply_to: None,
        related: Some(MailRelated {
            kind: "pratica".into(),
            id: p.id.0,
        }),
    })
}

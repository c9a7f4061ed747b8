//! The appointment booking part of the OpenAPI document (see
//! [`super::appuntamenti`]).

use serde_json::{Map, Value, json};

use super::openapi::{error_response, ok_json, staff};

fn office_param() -> Value {
    json!({ "name": "office", "in": "path", "required": true,
        "description": "Slug dell'ufficio", "schema": { "type": "string" } })
}

fn code_param() -> Value {
    json!({ "name": "code", "in": "path", "required": true,
        "description": "Codice della prenotazione (XXXX-XXXX-XXXX-XXXX; maiuscole, minuscole e trattini indifferenti)",
        "schema": { "type": "string" } })
}

fn booking() -> Value {
    json!({ "$ref": "#/components/schemas/Appuntamento" })
}

fn calendar() -> Value {
    json!({ "$ref": "#/components/schemas/CalendarioAppuntamenti" })
}

const BOOK_REFUSALS: &str = "ufficio_non_prenotabile, servizio_non_valido, ufficio_non_competente, appuntamento_orario_non_valido, appuntamento_troppo_vicino, appuntamento_troppo_lontano, appuntamento_non_disponibile (posto già preso), argomento_non_valido, motivo_troppo_lungo (oltre 500 caratteri), nome_non_valido, email_non_valida, telefono_non_valido, invalid_fields";

const CALENDAR_REFUSALS: &str = "appuntamenti_nessuna_fascia, appuntamenti_giorno_non_valido, appuntamenti_orario_non_valido, appuntamenti_fascia_vuota, appuntamenti_durata_non_valida, appuntamenti_posti_non_validi, appuntamenti_fasce_sovrapposte, appuntamenti_data_non_valida, appuntamenti_validita_non_valida, appuntamenti_limiti_non_validi, appuntamenti_elenco_non_valido, servizio_non_valido, invalid_fields";

/// The paths and the schemas.
pub fn parts() -> (Map<String, Value>, Map<String, Value>) {
    let text = json!({ "type": "string" });
    let opt_text = json!({ "type": ["string", "null"] });
    let time = json!({ "type": "string", "format": "date-time" });
    let date = json!({ "type": "string", "format": "date" });
    let paths = json!({
        "/appuntamenti/uffici": {
            "get": {
                "operationId": "ufficiPrenotabili",
                "summary": "Gli uffici che ricevono su appuntamento; con servizio, solo quelli competenti per il servizio (C.SI.2.1)",
                "parameters": [{ "name": "servizio", "in": "query", "required": false, "description": "Slug del servizio", "schema": { "type": "string" } }],
                "responses": {
                    "200": ok_json("Gli uffici", json!({ "type": "array", "items": { "$ref": "#/components/schemas/UfficioPrenotabile" } })),
                    "422": error_response("servizio_non_valido")
                }
            }
        },
        "/appuntamenti/uffici/{office}/disponibilita": {
            "get": {
                "operationId": "orariLiberi",
                "summary": "Gli orari liberi di un ufficio, in ora di Roma, esclusi festivi, santo patrono, chiusure, orari passati o entro il preavviso",
                "parameters": [office_param(),
                    { "name": "dal", "in": "query", "required": false, "description": "Primo giorno (AAAA-MM-GG; oggi se assente)", "schema": date },
                    { "name": "al", "in": "query", "required": false, "description": "Ultimo giorno (30 giorni dopo il primo se assente; al massimo 92)", "schema": date }],
                "responses": {
                    "200": ok_json("Gli orari liberi", json!({ "type": "array", "items": { "$ref": "#/components/schemas/OrarioLibero" } })),
                    "422": error_response("ufficio_non_prenotabile, appuntamenti_data_non_valida")
                }
            }
        },
        "/appuntamenti": {
            "post": {
                "operationId": "prenotaAppuntamento",
                "summary": "Prenota un posto di un orario libero; il codice restituito (una volta sola) serve per vedere o annullare la prenotazione. Con una chiave o una sessione di un cittadino la prenotazione è collegata al suo profilo",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RichiestaAppuntamento" } } } },
                "responses": {
                    "201": ok_json("La prenotazione e il suo codice", json!({ "type": "object", "required": ["code", "booking"], "properties": { "code": text, "booking": booking() } })),
                    "400": error_response("JSON non valido (invalid_json)"),
                    "415": error_response("Content-Type diverso da application/json"),
                    "422": error_response(BOOK_REFUSALS)
                }
            }
        },
        "/appuntamenti/prenotazioni/{code}": {
            "get": {
                "operationId": "appuntamentoDaCodice",
                "summary": "La prenotazione con questo codice",
                "parameters": [code_param()],
                "responses": {
                    "200": ok_json("La prenotazione", booking()),
                    "404": error_response("not_found: nessuna prenotazione con questo codice")
                }
            }
        },
        "/appuntamenti/prenotazioni/{code}/annulla": {
            "post": {
                "operationId": "annullaAppuntamento",
                "summary": "Annulla la prenotazione con questo codice: il posto torna libero",
                "parameters": [code_param()],
                "responses": {
                    "200": ok_json("La prenotazione annullata", booking()),
                    "404": error_response("not_found"),
                    "422": error_response("appuntamento_non_annullabile (già annullato o concluso)")
                }
            }
        },
        "/appuntamenti/uffici/{office}/agenda": {
            "get": staff(json!({
                "operationId": "agendaUfficio",
                "summary": "Le prenotazioni di un giorno dell'ufficio (tutti gli stati), per orario e sportello: il personale dell'ufficio e chi vede tutti gli uffici",
                "parameters": [office_param(),
                    { "name": "giorno", "in": "query", "required": false, "description": "AAAA-MM-GG (oggi se assente)", "schema": date }],
                "responses": {
                    "200": ok_json("Le prenotazioni", json!({ "type": "array", "items": booking() })),
                    "422": error_response("ufficio_non_prenotabile, appuntamenti_data_non_valida")
                }
            }))
        },
        "/appuntamenti/{id}/stato": {
            "post": staff(json!({
                "operationId": "segnaAppuntamento",
                "summary": "L'ufficio segna la prenotazione: presentato, assente (anche per correggere l'uno con l'altro) o annullato",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["state"], "properties": { "state": { "enum": ["presentato", "assente", "annullato"] } } } } } },
                "responses": {
                    "200": ok_json("La prenotazione", booking()),
                    "404": error_response("not_found"),
                    "415": error_response("Content-Type diverso da application/json"),
                    "422": error_response("stato_non_valido, appuntamento_non_annullabile, invalid_fields")
                }
            }))
        },
        "/appuntamenti/uffici/{office}/calendario": {
            "get": staff(json!({
                "operationId": "calendarioUfficio",
                "summary": "Il calendario delle prenotazioni dell'ufficio (null se non ne ha): il responsabile dell'ufficio e il dirigente",
                "parameters": [office_param()],
                "responses": {
                    "200": ok_json("Il calendario", json!({ "oneOf": [calendar(), { "type": "null" }] })),
                    "404": error_response("not_found: ufficio inesistente")
                }
            })),
            "post": staff(json!({
                "operationId": "impostaCalendarioUfficio",
                "summary": "Imposta il calendario delle prenotazioni dell'ufficio (le prenotazioni già fatte restano valide); risponde con la forma canonica",
                "parameters": [office_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": calendar() } } },
                "responses": {
                    "200": ok_json("Il calendario salvato", calendar()),
                    "400": error_response("JSON non valido (invalid_json)"),
                    "404": error_response("not_found: ufficio inesistente"),
                    "415": error_response("Content-Type diverso da application/json"),
                    "422": error_response(CALENDAR_REFUSALS)
                }
            }))
        }
    });
    let schemas = json!({
        "UfficioPrenotabile": { "type": "object", "required": ["slug", "name", "address", "topics", "notice_hours", "horizon_days"], "properties": {
            "slug": text, "name": text, "address": text,
            "topics": { "type": "array", "items": text },
            "notice_hours": { "type": "integer", "description": "Preavviso minimo in ore" },
            "horizon_days": { "type": "integer", "description": "Giorni prenotabili in anticipo" } } },
        "OrarioLibero": { "type": "object", "required": ["start", "end", "date", "time", "free"], "properties": {
            "start": time, "end": time, "date": date,
            "time": { "type": "string", "description": "Ora di inizio a Roma, HH:MM" },
            "free": { "type": "integer", "description": "Posti (sportelli) ancora liberi" } } },
        "RichiestaAppuntamento": { "type": "object", "additionalProperties": false,
            "required": ["office", "start", "topic", "name", "surname", "email"], "properties": {
                "office": { "type": "string", "description": "Slug dell'ufficio" },
                "start": { "type": "string", "format": "date-time", "description": "Inizio dell'orario, come in disponibilita" },
                "service": { "type": ["string", "null"], "description": "Slug del servizio da cui si prenota: l'ufficio deve esserne competente" },
                "topic": { "type": "string", "description": "Uno degli argomenti dell'ufficio" },
                "reason": { "type": "string", "maxLength": 500 },
                "name": text, "surname": text,
                "email": { "type": "string", "format": "email" },
                "phone": opt_text } },
        "Appuntamento": { "type": "object", "required": ["id", "office", "start", "end", "date", "seat", "service", "topic", "reason", "name", "surname", "email", "phone", "state"], "properties": {
            "id": { "type": "integer" }, "office": text, "start": time, "end": time, "date": date,
            "seat": { "type": "integer", "description": "Sportello, da 1" },
            "service": opt_text, "topic": text, "reason": text, "name": text, "surname": text, "email": text, "phone": opt_text,
            "state": { "enum": ["prenotato", "annullato", "presentato", "assente"] } } },
        "CalendarioAppuntamenti": { "type": "object", "additionalProperties": false, "properties": {
            "fasce": { "type": "array", "items": { "type": "object", "additionalProperties": false,
                "required": ["giorno", "dalle", "alle", "durata_minuti"], "properties": {
                    "giorno": { "enum": ["lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "sabato", "domenica"] },
                    "dalle": { "type": "string", "description": "HH:MM, inizio del primo appuntamento" },
                    "alle": { "type": "string", "description": "HH:MM, entro cui finisce l'ultimo" },
                    "durata_minuti": { "type": "integer", "minimum": 5, "maximum": 240 },
                    "posti": { "type": "integer", "minimum": 1, "maximum": 20, "default": 1, "description": "Sportelli per orario" } } } },
            "valido_dal": { "type": "string", "format": "date" },
            "valido_al": { "type": "string", "format": "date" },
            "chiusure": { "type": "array", "items": { "type": "string", "format": "date" } },
            "preavviso_ore": { "type": "integer", "minimum": 0, "maximum": 720, "default": 24 },
            "giorni_prenotabili": { "type": "integer", "minimum": 1, "maximum": 366, "default": 60 },
            "servizi": { "type": "array", "items": text, "description": "Altri servizi (slug) per cui l'ufficio riceve, oltre ai propri" },
            "argomenti": { "type": "array", "items": text } } }
    });
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    (as_map(paths), as_map(schemas))
}

//! The emergency register part of the OpenAPI document (see
//! [`super::emergenza`]).

use serde_json::{Map, Value, json};

use super::openapi::{error_response, ok_json, staff};

fn code_param() -> Value {
    json!({ "name": "code", "in": "path", "required": true, "description": "Codice del registro di emergenza (es. EMERG-2026-01)", "schema": { "type": "string" } })
}

fn session() -> Value {
    json!({ "$ref": "#/components/schemas/SessioneEmergenza" })
}

/// The paths and the schemas.
pub fn parts() -> (Map<String, Value>, Map<String, Value>) {
    let text = json!({ "type": "string" });
    let opt_text = json!({ "type": ["string", "null"] });
    let when = json!({ "type": "string", "description": "RFC 3339 con scarto (2026-03-02T08:30:00+01:00) oppure AAAA-MM-GG HH:MM o GG/MM/AAAA HH:MM, ora di Roma" });
    let time = json!({ "type": "string", "format": "date-time" });
    let opt_time = json!({ "type": ["string", "null"], "format": "date-time" });
    let paths = json!({
        "/protocollo/emergenze": {
            "get": staff(json!({
                "operationId": "registriEmergenza",
                "summary": "I registri di emergenza dell'ente (DPR 445/2000 art. 63), dal più recente",
                "responses": { "200": ok_json("Le sessioni", json!({ "type": "array", "items": session() })) }
            })),
            "post": staff(json!({
                "operationId": "apriRegistroEmergenza",
                "summary": "Apre un registro di emergenza con la prima autorizzazione (al massimo 24 ore dall'inizio, art. 63 c. 2)",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["cause", "started_at", "authorised_by", "act"], "properties": {
                        "code": { "type": ["string", "null"], "description": "Codice; il prossimo EMERG-<anno>-<nn> se assente" },
                        "cause": text, "started_at": when, "authorised_by": text, "act": text,
                        "until": { "type": ["string", "null"], "description": "Fine del primo periodo (predefinita e massima: 24 ore dall'inizio)" } } } } } },
                "responses": {
                    "201": ok_json("Il registro aperto", session()),
                    "422": error_response("emergenza_causa, emergenza_data_ora, emergenza_ora_ambigua, emergenza_inizio_futuro, emergenza_autorizzazione_24h, emergenza_autorizzazione_incompleta, emergenza_codice, emergenza_codice_esistente")
                }
            }))
        },
        "/protocollo/emergenze/{code}": {
            "get": staff(json!({
                "operationId": "registroEmergenza",
                "summary": "Un registro di emergenza con i conteggi giornalieri (art. 63 c. 3) e le registrazioni recuperate con entrambi i numeri",
                "parameters": [code_param()],
                "responses": {
                    "200": ok_json("Il registro", json!({ "type": "object", "required": ["session", "daily_counts", "entries"], "properties": {
                        "session": session(),
                        "daily_counts": { "type": "array", "items": { "type": "object", "properties": {
                            "date": { "type": "string", "format": "date" }, "registrations": { "type": "integer" } } } },
                        "entries": { "type": "array", "items": { "type": "object", "properties": {
                            "emergency_number": { "type": "integer" }, "recorded_at": time, "registration": { "type": "integer" },
                            "year": { "type": "integer" }, "number": text, "registered_at": time, "subject": text,
                            "annulled": { "type": "boolean" } } } } } })),
                    "404": error_response("Nessun registro di emergenza con questo codice")
                }
            }))
        },
        "/protocollo/emergenze/{code}/autorizzazioni": {
            "post": staff(json!({
                "operationId": "autorizzaRegistroEmergenza",
                "summary": "Registra un'ulteriore autorizzazione: decorre dalla fine della precedente e dura al massimo una settimana (art. 63 c. 2)",
                "parameters": [code_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["authorised_by", "act", "until"], "properties": { "authorised_by": text, "act": text, "until": when } } } } },
                "responses": {
                    "200": ok_json("Il registro aggiornato", session()),
                    "404": error_response("Nessun registro di emergenza con questo codice"),
                    "422": error_response("emergenza_autorizzazione_settimana, emergenza_autorizzazione_incompleta, emergenza_chiusa, emergenza_data_ora, emergenza_modificata")
                }
            }))
        },
        "/protocollo/emergenze/{code}/chiusura": {
            "post": staff(json!({
                "operationId": "chiudiRegistroEmergenza",
                "summary": "Chiude il registro di emergenza: il servizio è stato ripristinato (entro i periodi autorizzati)",
                "parameters": [code_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["ended_at"], "properties": { "ended_at": when } } } } },
                "responses": {
                    "200": ok_json("Il registro chiuso", session()),
                    "404": error_response("Nessun registro di emergenza con questo codice"),
                    "422": error_response("emergenza_fine, emergenza_fine_non_autorizzata, emergenza_chiusa, emergenza_data_ora")
                }
            }))
        },
        "/protocollo/emergenze/{code}/recupero": {
            "post": staff(json!({
                "operationId": "recuperaRegistroEmergenza",
                "summary": "Recupera le registrazioni di emergenza (art. 63 c. 5): ogni riga del file riceve un nuovo numero di protocollo, in ordine di numero di emergenza; una riga rifiutata non registra nulla e non ferma le altre; le righe già recuperate non sono registrate di nuovo",
                "parameters": [code_param()],
                "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": {
                    "type": "object", "required": ["recupero"],
                    "properties": {
                        "recupero": { "type": "string", "contentMediaType": "text/csv", "description": "Il file di recupero: CSV UTF-8 separato da «;», al massimo 4 MiB, intestazione numero_emergenza;data_ora_emergenza;verso;oggetto;corrispondente;codice_fiscale;email;numero_ricevuto;data_ricevuto;classifica;ufficio;documento;allegati (docs/emergency-register.md)" },
                        "documenti": { "type": "array", "items": { "type": "string", "contentMediaType": "application/octet-stream" }, "description": "I documenti che le righe nominano nelle colonne documento e allegati, riconosciuti dal nome del file; il tipo è verificato dal contenuto" }
                    } } } } },
                "responses": {
                    "200": ok_json("L'esito riga per riga", json!({ "$ref": "#/components/schemas/EsitoRecupero" })),
                    "404": error_response("Nessun registro di emergenza con questo codice"),
                    "413": error_response("File o richiesta troppo grandi"),
                    "415": error_response("Non è multipart/form-data"),
                    "422": error_response("Il file intero è rifiutato e nulla è registrato: recovery_file_missing, text_file_too_large, text_file_not_utf8, text_file_repeated, import_header, emergenza_aperta, import_documento_doppio, document_type_not_allowed, …")
                }
            }))
        },
        "/protocollo/emergenze/{code}/{number}": {
            "get": staff(json!({
                "operationId": "recuperoPerNumeroEmergenza",
                "summary": "La registrazione che ha recuperato il numero di emergenza indicato",
                "parameters": [code_param(), { "name": "number", "in": "path", "required": true, "description": "Numero di emergenza", "schema": { "type": "string" } }],
                "responses": {
                    "200": ok_json("La registrazione", json!({ "$ref": "#/components/schemas/Registrazione" })),
                    "404": error_response("Numero non recuperato o registro inesistente")
                }
            }))
        }
    });
    let schemas = json!({
        "SessioneEmergenza": { "type": "object", "properties": {
            "code": text, "cause": text, "started_at": time, "opened_by": text,
            "authorisations": { "type": "array", "items": { "type": "object", "properties": {
                "seq": { "type": "integer" }, "authorised_by": text, "act": text,
                "valid_from": time, "valid_until": time, "recorded_by": text, "recorded_at": time } } },
            "authorised_until": time, "open": { "type": "boolean" },
            "ended_at": opt_time, "closed_by": opt_text } },
        "EsitoRecupero": { "type": "object", "required": ["recovered", "already_recovered", "refused", "rows"], "properties": {
            "recovered": { "type": "integer", "description": "Righe registrate ora" },
            "already_recovered": { "type": "integer", "description": "Righe già recuperate in precedenza (nulla registrato di nuovo)" },
            "refused": { "type": "integer", "description": "Righe rifiutate (nulla registrato)" },
            "rows": { "type": "array", "items": { "type": "object", "required": ["line", "outcome"], "properties": {
                "line": { "type": "integer", "description": "Riga del file (da 1, l'intestazione è la riga 1)" },
                "emergency_number": { "type": ["integer", "null"] },
                "outcome": { "enum": ["recovered", "already_recovered", "refused"] },
                "registration": { "oneOf": [ { "$ref": "#/components/schemas/Registrazione" }, { "type": "null" } ] },
                "error": { "type": ["string", "null"], "description": "Codice stabile del rifiuto: emergenza_numero, emergenza_data_ora, emergenza_ora_ambigua, emergenza_numero_duplicato, emergenza_fuori_periodo, emergenza_numero_gia_recuperato, import_columns, import_csv, import_documento, document_type_not_allowed, …" },
                "message": { "type": ["string", "null"], "description": "Il motivo, in italiano" } } } } } }
    });
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    (as_map(paths), as_map(schemas))
}

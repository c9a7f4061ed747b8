//! The certificates part of the OpenAPI document (see
//! [`super::certificati`]).

use serde_json::{Map, Value, json};

use super::openapi::{error_response, ok_json, staff};

/// An operation for a signed-in resident (session or key of a citizen).
fn resident(op: Value) -> Value {
    let mut op = staff(op);
    op["responses"]["403"] = error_response(
        "Riservato ai cittadini che hanno effettuato l'accesso, oppure intestatario fuori dalla famiglia anagrafica",
    );
    op
}

fn cti_param() -> Value {
    json!({ "name": "cti", "in": "path", "required": true,
        "description": "Identificativo del certificato (cti): 16 byte in base64url senza padding, 22 caratteri",
        "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-]{22}$" } })
}

fn certificate() -> Value {
    json!({ "$ref": "#/components/schemas/Certificato" })
}

fn pdf() -> Value {
    json!({ "description": "Il PDF/A-3b del certificato, esattamente i byte sigillati (Content-Disposition: attachment; Cache-Control: private, no-store)",
        "content": { "application/pdf": { "schema": { "type": "string", "contentMediaType": "application/pdf" } } } })
}

fn issue_body() -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RichiestaCertificato" } } } })
}

const ISSUE_REFUSALS: &str = "tipo_sconosciuto, uso_sconosciuto, codice_fiscale_length, codice_fiscale_format, codice_fiscale_check_character (e gli altri codice_fiscale_…), non_residente, codice_fiscale_assente, cittadinanza_non_italiana, carattere_non_stampabile, invalid_fields";

/// The paths and the schemas.
pub fn parts() -> (Map<String, Value>, Map<String, Value>) {
    let text = json!({ "type": "string" });
    let time = json!({ "type": "string", "format": "date-time" });
    let opt_time = json!({ "type": ["string", "null"], "format": "date-time" });
    let opt_date = json!({ "type": ["string", "null"], "format": "date" });
    let list = json!({ "type": "array", "items": certificate() });
    let verdicts = json!([
        "valid",
        "expired",
        "revoked",
        "superseded",
        "altered",
        "unknown_key",
        "not_found"
    ]);
    let paths = json!({
        "/certificati": {
            "get": resident(json!({
                "operationId": "mieiCertificati",
                "summary": "I certificati del residente e quelli che ha chiesto per i familiari, dal più recente",
                "responses": {
                    "200": ok_json("I certificati", list.clone()),
                    "422": error_response("non_residente, codice_fiscale_assente")
                }
            })),
            "post": resident(json!({
                "operationId": "chiediCertificato",
                "summary": "Rilascia un certificato anagrafico con contrassegno (PZ1) per sé o per un componente della propria famiglia anagrafica (DECISIONS 19); in bollo si scarica dopo l'assolvimento dell'imposta",
                "requestBody": issue_body(),
                "responses": {
                    "201": ok_json("Il certificato rilasciato (download presente se scaricabile subito)", certificate()),
                    "400": error_response("JSON non valido (invalid_json)"),
                    "415": error_response("Content-Type diverso da application/json"),
                    "422": error_response(ISSUE_REFUSALS)
                }
            }))
        },
        "/certificati/{cti}": {
            "get": resident(json!({
                "operationId": "mioCertificato",
                "summary": "Un certificato dell'intestatario o chiesto dal cittadino",
                "parameters": [cti_param()],
                "responses": {
                    "200": ok_json("Il certificato", certificate()),
                    "404": error_response("Nessun certificato del cittadino con questo identificativo")
                }
            }))
        },
        "/certificati/{cti}/pdf": {
            "get": resident(json!({
                "operationId": "scaricaMioCertificato",
                "summary": "Il PDF del certificato",
                "parameters": [cti_param()],
                "responses": {
                    "200": pdf(),
                    "404": error_response("Nessun certificato del cittadino con questo identificativo"),
                    "422": error_response("bollo_da_assolvere (in bollo, imposta non ancora assolta), certificato_revocato")
                }
            }))
        },
        "/sportello/certificati": {
            "get": staff(json!({
                "operationId": "certificatiIntestatario",
                "summary": "Sportello anagrafe: i certificati rilasciati a un intestatario, dal più recente",
                "parameters": [{ "name": "codice_fiscale", "in": "query", "required": true, "description": "Codice fiscale dell'intestatario", "schema": { "type": "string" } }],
                "responses": {
                    "200": ok_json("I certificati", list),
                    "422": error_response("codice_fiscale_mancante, codice_fiscale_…")
                }
            })),
            "post": staff(json!({
                "operationId": "rilasciaCertificato",
                "summary": "Sportello anagrafe: rilascia un certificato per qualsiasi residente",
                "requestBody": issue_body(),
                "responses": {
                    "201": ok_json("Il certificato rilasciato", certificate()),
                    "400": error_response("JSON non valido (invalid_json)"),
                    "415": error_response("Content-Type diverso da application/json"),
                    "422": error_response(ISSUE_REFUSALS)
                }
            }))
        },
        "/sportello/certificati/{cti}/bollo": {
            "post": staff(json!({
                "operationId": "assolviBolloCertificato",
                "summary": "Sportello anagrafe: registra la marca da bollo di un certificato in bollo (ANA-03); da quel momento si può scaricare",
                "parameters": [cti_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["marca"], "properties": { "marca": { "type": "string", "pattern": "^[0-9]{14}$", "description": "Identificativo della marca da bollo (14 cifre)" } } } } } },
                "responses": {
                    "200": ok_json("Il certificato aggiornato", certificate()),
                    "404": error_response("Nessun certificato con questo identificativo"),
                    "422": error_response("marca_non_valida, bollo_non_dovuto, invalid_fields")
                }
            }))
        },
        "/sportello/certificati/{cti}/revoca": {
            "post": staff(json!({
                "operationId": "revocaCertificato",
                "summary": "Sportello anagrafe: revoca un certificato (definitiva): lo stato pubblico diventa revoked",
                "parameters": [cti_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["motivo"], "properties": { "motivo": { "type": "string", "maxLength": 500, "description": "Motivo della revoca (conservato, mai pubblicato)" } } } } } },
                "responses": {
                    "200": ok_json("Il certificato revocato", certificate()),
                    "404": error_response("Nessun certificato con questo identificativo"),
                    "422": error_response("motivo_mancante, gia_revocato, invalid_fields")
                }
            }))
        },
        "/sportello/certificati/{cti}/pdf": {
            "get": staff(json!({
                "operationId": "scaricaCertificatoSportello",
                "summary": "Sportello anagrafe: il PDF di un certificato",
                "parameters": [cti_param()],
                "responses": {
                    "200": pdf(),
                    "404": error_response("Nessun certificato con questo identificativo"),
                    "422": error_response("bollo_da_assolvere, certificato_revocato")
                }
            }))
        },
        "/verifica/{cti}": {
            "get": {
                "operationId": "statoCertificato",
                "summary": "Stato in linea di un certificato (DECISIONS 18), senza dati personali",
                "parameters": [cti_param()],
                "responses": {
                    "200": ok_json("Lo stato", json!({ "$ref": "#/components/schemas/StatoCertificato" })),
                    "404": error_response("not_found: il Comune non ha rilasciato alcun certificato con questo identificativo")
                }
            }
        },
        "/verifica": {
            "post": {
                "operationId": "verificaContrassegno",
                "summary": "Verifica il testo del codice QR (PZ1:…) con l'elenco delle chiavi, l'elenco di stato e i registri del Comune",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["testo"], "properties": { "testo": { "type": "string", "description": "Il testo letto dal codice QR, PZ1:…" } } } } } },
                "responses": {
                    "200": ok_json("L'esito", json!({ "$ref": "#/components/schemas/EsitoVerifica" })),
                    "400": error_response("JSON non valido (invalid_json)"),
                    "415": error_response("Content-Type diverso da application/json"),
                    "422": error_response("contrassegno_non_trovato (testo vuoto), invalid_fields")
                }
            }
        }
    });
    let schemas = json!({
        "RichiestaCertificato": { "type": "object", "additionalProperties": false,
            "required": ["codice_fiscale", "tipo", "uso"], "properties": {
                "codice_fiscale": { "type": "string", "description": "Codice fiscale dell'intestatario" },
                "tipo": { "enum": ["residenza", "stato_famiglia", "residenza_stato_famiglia", "nascita", "cittadinanza", "esistenza_in_vita", "stato_civile", "storico_residenza"], "description": "Tipo di certificato (altrimenti 422 tipo_sconosciuto)" },
                "uso": { "type": "string", "description": "bollo (imposta di 16,00 euro) oppure il codice di un'esenzione: tributi, previdenza, assistenza, scuola, adozione, ufficio, penale, abbonamenti, agricoltura, onlus, elettorale, separazione_divorzio, stato_civile (altrimenti 422 uso_sconosciuto)" } } },
        "Certificato": { "type": "object", "required": ["cti", "tipo", "title", "holder_cf", "uso", "bollo_cents", "bollo_settled", "releasable", "issued_at", "valid_until", "revoked", "channel", "status_url", "download"], "properties": {
            "cti": text, "tipo": text, "title": text,
            "holder_cf": { "type": "string", "description": "Codice fiscale dell'intestatario" },
            "uso": text,
            "bollo_cents": { "type": "integer", "description": "Imposta di bollo dovuta in centesimi (0 se esente)" },
            "bollo_settled": { "type": "boolean" },
            "releasable": { "type": "boolean", "description": "Scaricabile: esente o bollo assolto, e non revocato" },
            "issued_at": time, "valid_until": opt_date,
            "revoked": { "type": "boolean" },
            "channel": { "enum": ["online", "sportello"] },
            "status_url": { "type": "string", "description": "Pagina pubblica dello stato: /verifica/<cti>" },
            "download": { "type": ["string", "null"], "description": "Indirizzo del PDF, se scaricabile" } } },
        "StatoCertificato": { "type": "object", "required": ["status", "label", "doc_type", "issued_at", "valid_until", "pdf_sha256"], "properties": {
            "status": { "enum": ["valid", "expired", "revoked"] },
            "label": text, "doc_type": text, "issued_at": time, "valid_until": opt_date,
            "pdf_sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 del PDF rilasciato" } } },
        "EsitoVerifica": { "type": "object", "required": ["status", "label", "issuer", "doc_type", "issued_at", "expires_at", "pairs"], "properties": {
            "status": { "enum": verdicts },
            "label": text,
            "issuer": { "type": ["string", "null"], "description": "IT-<codice catastale>" },
            "doc_type": { "type": ["string", "null"] },
            "issued_at": opt_time, "expires_at": opt_time,
            "pairs": { "type": "array", "description": "I dati stampati, come sigillati; solo se il contrassegno è autentico (valid, expired, revoked, superseded)",
                "items": { "type": "object", "required": ["label", "value"], "properties": { "label": text, "value": text } } } } }
    });
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    (as_map(paths), as_map(schemas))
}

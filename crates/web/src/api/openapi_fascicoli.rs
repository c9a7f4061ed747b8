//! The titolario and fascicoli part of the OpenAPI document (see
//! [`super::fascicoli`]).

use serde_json::{Map, Value, json};

use super::openapi::{error_response, ok_json, staff};

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": "Identificativo del fascicolo", "schema": { "type": "string" } })
}

fn voce_param() -> Value {
    json!({ "name": "voce", "in": "path", "required": true, "description": "Codice della voce del titolario (VI, VI.3)", "schema": { "type": "string" } })
}

fn titolario() -> Value {
    json!({ "$ref": "#/components/schemas/Titolario" })
}

fn fascicolo() -> Value {
    json!({ "$ref": "#/components/schemas/Fascicolo" })
}

/// The paths and the schemas.
pub fn parts() -> (Map<String, Value>, Map<String, Value>) {
    let text = json!({ "type": "string" });
    let opt_text = json!({ "type": ["string", "null"] });
    let q = |name: &str, ty: &str, d: &str| json!({ "name": name, "in": "query", "required": false, "description": d, "schema": { "type": ty } });
    let kinds = json!({ "enum": ["procedimento", "affare", "attivita", "persona_fisica", "persona_giuridica"] });
    let paths = json!({
        "/titolario": {
            "get": staff(json!({
                "operationId": "titolario",
                "summary": "Il titolario dell'ente (la versione in vigore, o una precedente)",
                "parameters": [q("versione", "integer", "Numero di versione; in vigore se assente")],
                "responses": {
                    "200": ok_json("Il titolario", titolario()),
                    "400": error_response("Parametro non valido (invalid_query)"),
                    "404": error_response("Versione inesistente")
                }
            }))
        },
        "/titolario/versioni": {
            "get": staff(json!({
                "operationId": "versioniTitolario",
                "summary": "Le versioni del titolario dell'ente, dalla prima (1 è il titolario del 2005): quando, chi, che cosa è cambiato",
                "responses": {
                    "200": ok_json("Le versioni", json!({ "type": "array", "items": { "$ref": "#/components/schemas/VersioneTitolario" } }))
                }
            }))
        },
        "/titolario/classi": {
            "post": staff(json!({
                "operationId": "aggiungiClasseTitolario",
                "summary": "Aggiunge una classe a un titolo (numerata dopo l'ultima, anche chiusa: i codici non si riusano); crea la versione successiva del titolario, registrata nel registro di tracciabilità. Per l'amministratore del Comune (e il segretario)",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["titolo", "name"], "properties": {
                        "titolo": { "type": "string", "description": "Il titolo (VI)" },
                        "name": { "type": "string", "description": "Il nome della classe" } } } } } },
                "responses": {
                    "201": ok_json("La nuova versione del titolario", titolario()),
                    "400": error_response("JSON non valido (invalid_json)"),
                    "415": error_response("Content-Type diverso da application/json"),
                    "422": error_response("Non accettata (classifica_format, classifica_unknown, titolario_voce_inesistente, titolario_non_titolo, titolario_voce_chiusa, titolario_nome, titolario_modificato, invalid_fields)")
                }
            }))
        },
        "/titolario/voci/{voce}/nome": {
            "post": staff(json!({
                "operationId": "rinominaVoceTitolario",
                "summary": "Rinomina una voce (titolo o classe); i documenti conservano il codice. Crea la versione successiva del titolario",
                "parameters": [voce_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["name"], "properties": { "name": { "type": "string", "description": "Il nuovo nome" } } } } } },
                "responses": {
                    "200": ok_json("La nuova versione del titolario", titolario()),
                    "400": error_response("JSON non valido (invalid_json)"),
                    "415": error_response("Content-Type diverso da application/json"),
                    "422": error_response("Non accettata (classifica_format, classifica_unknown, titolario_voce_inesistente, titolario_voce_chiusa, titolario_nome, titolario_nessuna_modifica, titolario_modificato, invalid_fields)")
                }
            }))
        },
        "/titolario/voci/{voce}/chiusura": {
            "post": staff(json!({
                "operationId": "chiudiVoceTitolario",
                "summary": "Chiude una voce (un titolo con tutte le sue classi): non vi si classifica più nulla di nuovo, quanto già classificato non cambia (TI-3). Crea la versione successiva del titolario",
                "parameters": [voce_param()],
                "responses": {
                    "200": ok_json("La nuova versione del titolario", titolario()),
                    "422": error_response("Non accettata (classifica_format, classifica_unknown, titolario_voce_inesistente, titolario_voce_chiusa, titolario_modificato)")
                }
            }))
        },
        "/fascicoli": {
            "get": staff(json!({
                "operationId": "cercaFascicoli",
                "summary": "Ricerca dei fascicoli (dal più vecchio)",
                "parameters": [
                    q("classifica", "string", "Voce del titolario (VI.3)"),
                    q("anno", "integer", "Anno di apertura"),
                    q("oggetto", "string", "Testo nell'oggetto"),
                    q("ufficio", "integer", "Ufficio responsabile"),
                    q("aperti", "boolean", "Solo i fascicoli aperti"),
                    q("dopo", "integer", "Paginazione: il valore next della pagina precedente"),
                    q("limite", "integer", "Quanti al massimo (1-200, predefinito 50)")
                ],
                "responses": {
                    "200": ok_json("Fascicoli trovati", json!({ "type": "object", "required": ["items"], "properties": {
                        "items": { "type": "array", "items": fascicolo() }, "next": { "type": ["integer", "null"] } } })),
                    "400": error_response("Parametro non valido (invalid_query)"),
                    "422": error_response("Classificazione non valida")
                }
            })),
            "post": staff(json!({
                "operationId": "apriFascicolo",
                "summary": "Apre un fascicolo sotto una voce aperta del titolario, con ufficio e responsabile",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["kind", "subject", "office", "responsible"], "properties": {
                        "classification": { "type": "string", "description": "Voce del titolario; un sottofascicolo prende quella del padre" },
                        "kind": kinds, "subject": text, "office": { "type": "integer" }, "responsible": text,
                        "participants": { "type": "array", "items": text }, "holder": opt_text,
                        "parent": { "type": ["integer", "null"] } } } } } },
                "responses": {
                    "201": ok_json("Il fascicolo aperto", fascicolo()),
                    "422": error_response("Campi non validi (classifica_unknown, classifica_chiusa, fascicolo_tipo, office_unknown, …)")
                }
            }))
        },
        "/fascicoli/{id}": {
            "get": staff(json!({
                "operationId": "fascicolo",
                "summary": "Un fascicolo con i suoi documenti",
                "parameters": [id_param()],
                "responses": { "200": ok_json("Il fascicolo", fascicolo()), "404": error_response("Nessun fascicolo") }
            }))
        },
        "/fascicoli/{id}/documenti": {
            "post": staff(json!({
                "operationId": "fascicolaDocumento",
                "summary": "Inserisce una registrazione di protocollo nel fascicolo (o la toglie con action togli)",
                "parameters": [id_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false,
                    "required": ["registration"], "properties": {
                        "registration": { "type": "integer" }, "action": { "enum": ["inserisci", "togli", null] } } } } } },
                "responses": {
                    "200": ok_json("Il fascicolo aggiornato", fascicolo()),
                    "404": error_response("Nessun fascicolo"),
                    "422": error_response("fascicolo_chiuso, fascicolo_documento_presente, fascicolo_documento_assente, protocollo_inesistente, protocollo_annullato")
                }
            }))
        },
        "/fascicoli/{id}/chiusura": {
            "post": staff(json!({
                "operationId": "chiudiFascicolo",
                "summary": "Chiude il fascicolo: non si possono più aggiungere o togliere documenti",
                "parameters": [id_param()],
                "responses": {
                    "200": ok_json("Il fascicolo chiuso", fascicolo()),
                    "404": error_response("Nessun fascicolo"),
                    "422": error_response("fascicolo_gia_chiuso, fascicolo_sottofascicoli_aperti (ha sottofascicoli aperti)")
                }
            }))
        },
        "/fascicoli/{id}/indice": {
            "get": staff(json!({
                "operationId": "indiceFascicolo",
                "summary": "L'indice dei documenti del fascicolo (XML o CSV)",
                "parameters": [id_param(), q("formato", "string", "xml (predefinito) oppure csv")],
                "responses": {
                    "200": { "description": "L'indice (application/xml o text/csv)" },
                    "400": error_response("Formato sconosciuto (invalid_format)"),
                    "404": error_response("Nessun fascicolo")
                }
            }))
        },
        "/fascicoli/{id}/assegnazioni": {
            "get": staff(json!({
                "operationId": "assegnazioniFascicolo",
                "summary": "Le assegnazioni del fascicolo e il loro percorso (ogni passo con autore e ora)",
                "parameters": [id_param()],
                "responses": {
                    "200": ok_json("Le assegnazioni e i passi", json!({ "type": "object", "required": ["handoffs", "timeline"], "properties": {
                        "handoffs": { "type": "array", "items": { "$ref": "#/components/schemas/Assegnazione" } },
                        "timeline": { "type": "array", "items": { "type": "object", "properties": {
                            "handoff": { "type": "integer" }, "action": text, "actor": text, "at": text, "note": opt_text } } } } })),
                    "404": error_response("Nessun fascicolo")
                }
            })),
            "post": staff(json!({
                "operationId": "assegnaFascicolo",
                "summary": "Assegna l'intero fascicolo a un ufficio o a una persona per competenza o per conoscenza (si agisce con /assegnazioni/{id})",
                "parameters": [id_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NuovaAssegnazione" } } } },
                "responses": {
                    "201": ok_json("L'assegnazione", json!({ "$ref": "#/components/schemas/Assegnazione" })),
                    "404": error_response("Nessun fascicolo"),
                    "422": error_response("handoff_kind, handoff_destinatario_mancante, office_unknown, handoff_persona_sconosciuta, handoff_persona_non_abilitata, handoff_persona_fuori_ufficio, handoff_ufficio_mancante, fascicolo_chiuso, fascicolo_riservato_ufficio")
                }
            }))
        },
        "/fascicoli/{id}/riservatezza": {
            "post": staff(json!({
                "operationId": "riservatezzaFascicolo",
                "summary": "Rende riservato il fascicolo (con i suoi sottofascicoli) per l'ufficio responsabile e i soggetti designati, o toglie la riservatezza",
                "parameters": [id_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "required": ["restricted"], "properties": {
                    "restricted": { "type": "boolean" },
                    "offices": { "type": "array", "items": { "type": "integer" }, "description": "Uffici designati" },
                    "users": { "type": "array", "items": { "type": "integer" }, "description": "Utenti designati" } } } } } },
                "responses": {
                    "200": ok_json("Il fascicolo aggiornato", fascicolo()),
                    "404": error_response("Nessun fascicolo"),
                    "422": error_response("office_unknown, utente_sconosciuto, fascicolo_non_riservato, fascicolo_riservato_troppi")
                }
            }))
        }
    });
    let schemas = json!({
        "Fascicolo": { "type": "object", "properties": {
            "id": { "type": "integer" }, "code": text, "year": { "type": "integer" }, "number": { "type": "integer" },
            "classification": text, "titolario_version": { "type": "integer" }, "kind": kinds,
            "subject": text, "office": { "type": "integer" }, "responsible": text,
            "participants": { "type": "array", "items": text }, "holder": opt_text,
            "parent": { "type": ["integer", "null"] },
            "opened_on": { "type": "string", "format": "date" }, "opened_by": text,
            "closed_on": { "type": ["string", "null"], "format": "date" }, "closed_by": opt_text,
            "documents": { "type": "array", "items": { "type": "object", "properties": {
                "registration": { "type": "integer" }, "added_at": text, "added_by": text } } },
            "restriction": { "type": "object", "description": "Area riservata (assente se il fascicolo non è riservato)", "properties": {
                "offices": { "type": "array", "items": { "type": "integer" } },
                "users": { "type": "array", "items": { "type": "integer" } },
                "at": text, "by": text } } } },
        "VersioneTitolario": { "type": "object", "required": ["version", "created_at", "created_by", "change"], "properties": {
            "version": { "type": "integer" }, "created_at": text, "created_by": text, "change": text } },
        "Titolario": { "type": "object", "properties": {
            "version": { "type": "integer" }, "created_at": text, "created_by": text, "change": text,
            "voices": { "type": "array", "items": { "type": "object", "properties": {
                "code": text, "titolo": { "type": "integer" }, "classe": { "type": ["integer", "null"] },
                "name": text, "closed": { "type": "boolean" } } } } } }
    });
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    (as_map(paths), as_map(schemas))
}

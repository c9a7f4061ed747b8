//! The classification policy (TI-2) part of the OpenAPI document (see
//! [`super::classificazione`]).

use serde_json::{Map, Value, json};

use super::openapi::{error_response, ok_json, staff};

/// The paths and the schemas.
pub fn parts() -> (Map<String, Value>, Map<String, Value>) {
    let politica = json!({ "$ref": "#/components/schemas/PoliticaClassificazione" });
    let paths = json!({
        "/protocollo/da-classificare": {
            "get": staff(json!({
                "operationId": "registrazioniDaClassificare",
                "summary": "Le registrazioni del registro generale senza classificazione, dalla più urgente, con il termine per classificarle (giorni lavorativi dalla data di registrazione, secondo la politica del Comune)",
                "responses": {
                    "200": ok_json("Le registrazioni da classificare (al più 1000)", json!({ "type": "array", "items": { "$ref": "#/components/schemas/DaClassificare" } }))
                }
            }))
        },
        "/protocollo/politica": {
            "get": staff(json!({
                "operationId": "politicaClassificazione",
                "summary": "La politica di classificazione del Comune: obbligatoria alla registrazione, oppure differita entro un termine",
                "responses": { "200": ok_json("La politica in vigore", politica.clone()) }
            })),
            "post": staff(json!({
                "operationId": "impostaPoliticaClassificazione",
                "summary": "Stabilisce la politica di classificazione (amministratore del Comune o responsabile della gestione documentale); registrata nel registro degli eventi",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "additionalProperties": false,
                    "required": ["classification_mandatory", "classify_within_days"],
                    "properties": {
                        "classification_mandatory": { "type": "boolean" },
                        "classify_within_days": { "type": "integer", "minimum": 1, "maximum": 60 }
                    } } } } },
                "responses": {
                    "200": ok_json("La politica stabilita", politica),
                    "400": error_response("JSON non valido"),
                    "415": error_response("Content-Type diverso da application/json"),
                    "422": error_response("Valori non validi (politica_giorni, invalid_fields)")
                }
            }))
        }
    });
    let schemas = json!({
        "DaClassificare": {
            "type": "object",
            "required": ["id", "year", "number", "registered_at", "subject", "deadline", "overdue"],
            "properties": {
                "id": { "type": "integer" },
                "year": { "type": "integer" },
                "number": { "type": "string", "pattern": "^[0-9]{7,}$" },
                "registered_at": { "type": "string", "format": "date-time" },
                "subject": { "type": "string" },
                "deadline": { "type": "string", "format": "date", "description": "Ultimo giorno per classificare (Europe/Rome)" },
                "overdue": { "type": "boolean", "description": "Il termine è scaduto" }
            }
        },
        "PoliticaClassificazione": {
            "type": "object",
            "required": ["classification_mandatory", "classify_within_days", "updated_at", "updated_by"],
            "properties": {
                "classification_mandatory": { "type": "boolean", "description": "Registrazioni senza classificazione rifiutate (classificazione_obbligatoria)" },
                "classify_within_days": { "type": "integer", "minimum": 1, "maximum": 60, "description": "Giorni lavorativi per classificare una registrazione fatta senza classificazione" },
                "updated_at": { "type": ["string", "null"], "format": "date-time", "description": "null: valori predefiniti, mai stabiliti" },
                "updated_by": { "type": ["string", "null"] }
            }
        }
    });
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    (as_map(paths), as_map(schemas))
}

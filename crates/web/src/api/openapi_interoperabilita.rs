//! The protocol messages part of the OpenAPI document (see
//! [`super::interoperabilita`]).

use serde_json::{Map, Value, json};

use super::openapi::{error_response, ok_json, staff};

/// The paths and the schemas.
pub fn parts() -> (Map<String, Value>, Map<String, Value>) {
    let text = json!({ "type": "string" });
    let outcome = json!({ "$ref": "#/components/schemas/EsitoMessaggio" });
    let paths = json!({
        "/protocollo/messaggi": {
            "post": staff(json!({
                "operationId": "riceviMessaggioProtocollo",
                "summary": "Riceve un messaggio di protocollo di un'altra amministrazione (Linee guida AgID 2021, Allegato 6): verifica struttura, firma e impronte della segnatura e, se corretto, lo registra in entrata; oppure registra con la nostra registrazione la comunicazione di annullamento del mittente (AnnullamentoProtocollazione). Un rifiuto è un esito (200, esito «eccezione» con il codice ufficiale 000–007), non un errore; il messaggio di risposta da inviare al mittente è in «messaggio»",
                "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": {
                    "type": "object", "required": ["segnatura"],
                    "properties": {
                        "segnatura": { "type": "string", "contentMediaType": "application/xml", "description": "L'XML ricevuto: SegnaturaInformatica firmata oppure AnnullamentoProtocollazione (UTF-8, al massimo 4 MiB)" },
                        "documenti": { "type": "array", "items": { "type": "string", "contentMediaType": "application/octet-stream" }, "description": "Il documento primario e gli allegati, con i nomi di file indicati nella segnatura (qualsiasi nome di campo diverso da «segnatura»)" }
                    } } } } },
                "responses": {
                    "201": ok_json("Messaggio registrato in entrata; «messaggio» è la ConfermaRicezione", outcome.clone()),
                    "200": ok_json("Messaggio già registrato, rifiutato (NotificaEccezione in «messaggio») o annullamento del mittente registrato", outcome),
                    "413": error_response("File o richiesta troppo grandi"),
                    "415": error_response("Non è multipart/form-data"),
                    "422": error_response("Il caricamento è rifiutato e nulla è ricevuto: segnatura_mancante, text_file_too_large, text_file_not_utf8, text_file_repeated, document_type_not_allowed, …")
                }
            }))
        },
        "/protocollo/voci/{id}/annullamento-mittente": {
            "get": staff(json!({
                "operationId": "annullamentoDelMittente",
                "summary": "La comunicazione di annullamento del mittente (AnnullamentoProtocollazione) registrata con la registrazione",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "responses": {
                    "200": ok_json("La comunicazione", json!({ "$ref": "#/components/schemas/AnnullamentoMittente" })),
                    "404": error_response("Registrazione inesistente o senza comunicazione di annullamento")
                }
            }))
        }
    });
    let schemas = json!({
        "AnnullamentoMittente": { "type": "object", "properties": {
            "registration": { "type": "integer" },
            "received_at": { "type": "string", "format": "date-time" },
            "reason": text, "act": text, "recorded_by": text,
            "sha256": { "type": "string", "description": "SHA-256 dell'XML ricevuto" }
        } },
        "EsitoMessaggio": { "type": "object", "required": ["esito", "descrizione"], "properties": {
            "esito": { "type": "string", "enum": ["registrato", "gia_registrato", "eccezione", "annullamento", "annullamento_gia_registrato"] },
            "codice": { "type": ["string", "null"], "description": "Per «eccezione»: 000_Irricevibile, 001_ValidazioneFirma, 002_AnomaliaImpronte, 003_DocumentoAllegatiNonLeggibili, 004_DocumentoAllegatiErroreValidazioneFirma, 005_DocumentoAllegatiErroreVaidazioneMarcaTemporale, 006_DocumentoAllegatiErroreValidazioneSigillo, 007_ErroreIdentificatoreNonTrovato" },
            "descrizione": text,
            "registrazione": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Registrazione" }] },
            "annullamento_mittente": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/AnnullamentoMittente" }] },
            "messaggio": { "type": ["string", "null"], "description": "L'XML di risposta da inviare al mittente: ConfermaRicezione o NotificaEccezione" }
        } }
    });
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    (as_map(paths), as_map(schemas))
}

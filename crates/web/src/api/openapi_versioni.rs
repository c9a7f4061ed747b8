//! The document versions (SYS-3) and Allegato 5 metadata (PR-11) part of
//! the OpenAPI document (see [`crate::versioni`]).

use serde_json::{Map, Value, json};

use super::openapi::{error_response, ok_json, staff};

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

/// `GET …/contenuto`: the content signed in a `.p7m` (see [`crate::firmati`]).
fn contenuto_firmato(operation: &str, summary: &str, parameters: Value) -> Value {
    let header = |d: &str| json!({ "description": d, "schema": { "type": "string" } });
    json!({
        "operationId": operation,
        "summary": summary,
        "description": "Il contenuto più interno (le buste annidate .p7m.p7m sono aperte), con il tipo riconosciuto dal contenuto come per i caricamenti. In linea (Content-Disposition: inline) solo PDF, PNG e JPEG, e XML, CSV e testo mostrati come text/plain; gli altri tipi come allegato.",
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "Il contenuto firmato",
                "headers": {
                    "Content-Disposition": header("inline o attachment, con il nome del file senza .p7m"),
                    "X-Palazzo-Tipo-Rilevato": header("Il tipo riconosciuto dal contenuto (anche quando è mostrato come text/plain)"),
                    "X-Palazzo-Impronta-Busta": header("SHA-256 della busta .p7m registrata, che non cambia")
                },
                "content": { "*/*": { "schema": { "type": "string", "format": "binary" } } }
            },
            "404": error_response("Nessuna registrazione, documento o versione"),
            "422": error_response("documento_non_firmato (non è un .p7m), document_p7m_invalid (busta danneggiata), document_type_not_allowed (contenuto di un tipo non ammesso)")
        }
    })
}

/// The paths and the schemas.
pub fn parts() -> (Map<String, Value>, Map<String, Value>) {
    let id = path_param("id", "Identificativo della registrazione");
    let n = path_param("n", "Il documento: 0 il principale, poi 1, 2… gli allegati");
    let versione = json!({ "$ref": "#/components/schemas/VersioneDocumento" });
    let paths = json!({
        "/protocollo/voci/{id}/documenti/{n}/versioni": {
            "get": staff(json!({
                "operationId": "versioniDocumento",
                "summary": "Le versioni di un documento registrato: 1 è l'originale registrato (la sua impronta non cambia mai), poi le nuove versioni",
                "parameters": [id, n],
                "responses": {
                    "200": ok_json("Le versioni, dalla prima", json!({ "type": "array", "items": versione })),
                    "404": error_response("Nessuna registrazione o documento")
                }
            })),
            "post": staff(json!({
                "operationId": "nuovaVersioneDocumento",
                "summary": "Aggiunge una nuova versione di un documento registrato (rettifica, integrazione o annotazione); la versione precedente resta conservata",
                "parameters": [id, n],
                "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": {
                    "type": "object", "required": ["documento", "tipo", "motivo"],
                    "properties": {
                        "documento": { "type": "string", "contentMediaType": "application/octet-stream", "description": "Il file della nuova versione; il tipo è riconosciuto dal contenuto" },
                        "tipo": { "enum": ["rettifica", "integrazione", "annotazione"] },
                        "motivo": { "type": "string", "maxLength": 1000 }
                    } } } } },
                "responses": {
                    "201": ok_json("Versione aggiunta", versione),
                    "404": error_response("Nessuna registrazione"),
                    "413": error_response("File o richiesta troppo grandi"),
                    "415": error_response("Non è multipart/form-data"),
                    "422": error_response("Non accettata (versione_tipo, versione_file, versione_motivo_mancante, versione_identica, versione_documento_inesistente, protocollo_annullato, document_type_not_allowed, …)")
                }
            }))
        },
        "/protocollo/voci/{id}/documenti/{n}/versioni/{v}": {
            "get": staff(json!({
                "operationId": "scaricaVersioneDocumento",
                "summary": "Scarica una versione di un documento (1 l'originale registrato)",
                "parameters": [id, n, path_param("v", "Numero di versione")],
                "responses": {
                    "200": { "description": "Il file della versione, con il tipo riconosciuto al caricamento" },
                    "404": error_response("Nessuna versione")
                }
            }))
        },
        "/protocollo/voci/{id}/documenti/{n}/contenuto": {
            "get": staff(contenuto_firmato("contenutoFirmato", "Il contenuto firmato di un documento .p7m come registrato (la busta resta l'originale: si scarica con /protocollo/voci/{id}/documenti/{n})", json!([id, n])))
        },
        "/protocollo/voci/{id}/documenti/{n}/versioni/{v}/contenuto": {
            "get": staff(contenuto_firmato("contenutoFirmatoVersione", "Il contenuto firmato di una versione .p7m di un documento (1 l'originale registrato)", json!([id, n, path_param("v", "Numero di versione")])))
        },
        "/protocollo/voci/{id}/documenti/{n}/metadati": {
            "get": staff(json!({
                "operationId": "metadatiDocumento",
                "summary": "I metadati del documento secondo l'Allegato 5 delle Linee guida AgID (DocumentoAmministrativoInformatico, XML; schema in docs/documento-amministrativo-informatico.xsd)",
                "parameters": [id, n, { "name": "versione", "in": "query", "required": false, "description": "Numero di versione; l'ultima se assente", "schema": { "type": "integer", "minimum": 1 } }],
                "responses": {
                    "200": { "description": "I metadati (application/xml, come allegato)", "content": { "application/xml": { "schema": { "type": "string" } } } },
                    "400": error_response("Numero di versione non valido (versione_non_valida)"),
                    "404": error_response("Nessuna registrazione, documento o versione")
                }
            }))
        }
    });
    let text = json!({ "type": "string" });
    let opt_text = json!({ "type": ["string", "null"] });
    let schemas = json!({
        "VersioneDocumento": {
            "type": "object",
            "required": ["document", "version", "name", "media_type", "size", "sha256", "kind", "author", "at", "reason", "previous_sha256"],
            "properties": {
                "document": { "type": "integer", "description": "0 il principale, poi gli allegati" },
                "version": { "type": "integer", "description": "1 l'originale registrato" },
                "name": text, "media_type": text, "size": { "type": "integer" },
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "kind": { "type": ["string", "null"], "enum": ["Rettifica", "Integrazione", "Annotazione", null] },
                "author": text,
                "at": { "type": "string", "format": "date-time" },
                "reason": opt_text,
                "previous_sha256": { "type": ["string", "null"], "pattern": "^[0-9a-f]{64}$" }
            }
        }
    });
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    (as_map(paths), as_map(schemas))
}

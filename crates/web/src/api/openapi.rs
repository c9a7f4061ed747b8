//! The OpenAPI 3.1 description of `/api/v1`, built with serde_json so it is
//! always well-formed. It describes exactly the routes of [`super::router`];
//! a test keeps the two in step.

use serde_json::{Value, json};

/// An operation for staff: authenticated with an API key or the back-office
/// session, answering 401 without them and 403 without the role.
pub(crate) fn staff(op: Value) -> Value {
    let mut op = op;
    op["security"] = json!([{ "chiave": [] }, { "sessione": [] }]);
    if let Some(r) = op["responses"].as_object_mut() {
        r.insert(
            "401".into(),
            error_response("Chiave o sessione mancante, scaduta o revocata"),
        );
        r.insert(
            "403".into(),
            error_response("Il ruolo non consente l'operazione"),
        );
    }
    op
}

pub(crate) fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

pub(crate) fn ok_json(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// The document served at `/api/v1/openapi.json`.
pub fn document() -> Value {
    let mut doc = public_document();
    for (paths, schemas) in [
        super::openapi_protocollo::parts(),
        super::openapi_fascicoli::parts(),
        super::openapi_emergenza::parts(),
        super::openapi_versioni::parts(),
        super::openapi_interoperabilita::parts(),
        super::openapi_classificazione::parts(),
        super::openapi_certificati::parts(),
        super::openapi_istanze::parts(),
        super::openapi_appuntamenti::parts(),
        crate::tempi::openapi_parts(),
        crate::tributi::openapi_parts(),
        crate::tari::openapi_parts(),
        crate::canone::openapi_parts(),
    ] {
        if let Some(p) = doc["paths"].as_object_mut() {
            p.extend(paths);
        }
        if let Some(s) = doc["components"]["schemas"].as_object_mut() {
            s.extend(schemas);
        }
    }
    doc
}

fn public_document() -> Value {
    let address = json!({
        "type": "object",
        "required": ["street", "cap", "locality", "province"],
        "properties": {
            "street": { "type": "string", "description": "Via e numero civico" },
            "cap": { "type": "string", "pattern": "^[0-9]{5}$" },
            "locality": { "type": "string" },
            "province": { "type": "string", "description": "Sigla della provincia" }
        }
    });
    let text = json!({ "type": "string" });
    let opt_text = json!({ "type": ["string", "null"] });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Palazzo API",
            "version": "1.0.0",
            "description": "API del portale comunale: dati dell'ente, catalogo dei servizi, uffici e valutazione anonima delle pagine (pubbliche); protocollo informatico (per il personale, con una chiave personale inviata come Authorization: Bearer pzk_…, creata nell'area del personale in «Chiavi per l'API», oppure con la sessione del back office). Gli errori hanno la forma {\"error\": codice, \"message\": messaggio in italiano}.",
            "license": { "name": "EUPL-1.2", "identifier": "EUPL-1.2" }
        },
        "servers": [ { "url": "/api/v1" } ],
        "security": [ {} ],
        "paths": {
            "/ente": {
                "get": {
                    "operationId": "getEnte",
                    "summary": "Dati pubblici dell'ente",
                    "responses": {
                        "200": ok_json("L'ente che risponde a questo indirizzo", json!({ "$ref": "#/components/schemas/Ente" })),
                        "404": error_response("Nessun ente configurato")
                    }
                }
            },
            "/servizi": {
                "get": {
                    "operationId": "listServizi",
                    "summary": "Catalogo dei servizi",
                    "responses": {
                        "200": ok_json("I servizi, per categoria e titolo", json!({ "type": "array", "items": { "$ref": "#/components/schemas/ServiceSummary" } }))
                    }
                }
            },
            "/servizi/{slug}": {
                "get": {
                    "operationId": "getServizio",
                    "summary": "Scheda di un servizio",
                    "parameters": [ {
                        "name": "slug", "in": "path", "required": true,
                        "schema": { "type": "string", "pattern": "^[a-z0-9-]+$" }
                    } ],
                    "responses": {
                        "200": ok_json("La scheda del servizio", json!({ "$ref": "#/components/schemas/Service" })),
                        "404": error_response("Servizio inesistente")
                    }
                }
            },
            "/uffici": {
                "get": {
                    "operationId": "listUffici",
                    "summary": "Uffici e contatti",
                    "responses": {
                        "200": ok_json("Gli uffici, per nome", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Office" } }))
                    }
                }
            },
            "/valutazioni": {
                "post": {
                    "operationId": "postValutazione",
                    "summary": "Valutazione anonima della chiarezza di una pagina (criteri C.SI.2.5 e C.SI.2.6)",
                    "description": "Non richiede il ticket del modulo HTML; le valutazioni sono limitate per client (IPv6: per prefisso /64) e per pagina.",
                    "requestBody": {
                        "required": true,
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RatingRequest" } } }
                    },
                    "responses": {
                        "201": ok_json("Valutazione registrata", json!({ "type": "object", "required": ["result"], "properties": { "result": { "const": "stored" } } })),
                        "400": error_response("JSON non valido"),
                        "403": error_response("Richiesta proveniente da un altro sito"),
                        "415": error_response("Content-Type diverso da application/json"),
                        "422": error_response("Valori non validi o pagina inesistente (rating_page_unknown)"),
                        "429": error_response("Troppe valutazioni in poco tempo")
                    }
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "Questo documento",
                    "responses": { "200": ok_json("Documento OpenAPI 3.1", json!({ "type": "object" })) }
                }
            }
        },
        "components": {
            "securitySchemes": {
                "chiave": { "type": "http", "scheme": "bearer", "description": "Chiave personale pzk_… del personale (area del personale, «Chiavi per l'API», o `palazzo api-token create`)" },
                "sessione": { "type": "apiKey", "in": "cookie", "name": "__Host-palazzo" }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": { "type": "string", "description": "Codice stabile, snake_case" },
                        "message": { "type": "string", "description": "Messaggio in italiano" },
                        "request_id": { "type": "string" }
                    }
                },
                "Address": address,
                "Ente": {
                    "type": "object",
                    "required": ["name", "short_name", "codice_catastale", "codice_istat", "codice_ipa", "codice_fiscale", "pec", "email", "phone", "address", "region"],
                    "properties": {
                        "name": text, "short_name": text, "codice_catastale": text, "codice_istat": text,
                        "codice_ipa": text, "codice_fiscale": text,
                        "pec": { "type": "string", "format": "email" },
                        "email": { "type": "string", "format": "email" },
                        "phone": text,
                        "address": { "$ref": "#/components/schemas/Address" },
                        "region": text
                    }
                },
                "ServiceSummary": {
                    "type": "object",
                    "required": ["slug", "title", "category", "category_label", "status", "summary", "url"],
                    "properties": {
                        "slug": text, "title": text, "category": text, "category_label": text,
                        "status": { "enum": ["active", "inactive"] },
                        "summary": text, "url": text
                    }
                },
                "Service": {
                    "type": "object",
                    "required": ["slug", "title", "category", "category_label", "status", "status_reason", "summary", "audience", "how_to", "needed", "achieved", "times", "costs", "access", "online_url", "conditions", "office", "topics", "url"],
                    "properties": {
                        "slug": text, "title": text, "category": text, "category_label": text,
                        "status": { "enum": ["active", "inactive"] },
                        "status_reason": opt_text, "summary": text, "audience": text, "how_to": text,
                        "needed": text, "achieved": text, "times": text, "costs": opt_text, "access": text,
                        "online_url": opt_text, "conditions": text, "office": opt_text,
                        "topics": { "type": "array", "items": text },
                        "url": text
                    }
                },
                "Office": {
                    "type": "object",
                    "required": ["slug", "name", "description", "email", "pec", "phone", "address", "opening_hours"],
                    "properties": {
                        "slug": text, "name": text, "description": text,
                        "email": opt_text, "pec": opt_text, "phone": text,
                        "address": { "$ref": "#/components/schemas/Address" },
                        "opening_hours": text
                    }
                },
                "RatingRequest": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["page", "stars"],
                    "properties": {
                        "page": { "type": "string", "description": "Percorso di una pagina esistente dell'ente che prevede la valutazione (pagine di primo e secondo livello, schede servizio, home, domande frequenti), ad esempio /servizi; viene registrato il percorso canonico. Altrimenti 422 con codice rating_page_unknown" },
                        "stars": { "type": "integer", "minimum": 1, "maximum": 5 },
                        "answer": { "type": ["integer", "null"], "minimum": 1, "maximum": 5, "description": "Risposta alla domanda di approfondimento: elenco negativo per 1-3 stelle, positivo per 4-5" },
                        "comment": { "type": ["string", "null"], "maxLength": 200, "description": "Testo libero; sono ammessi a capo e tabulazioni ma nessun altro carattere di controllo (codice rating_comment_characters)" }
                    }
                }
            }
        }
    })
}

//! The protocollo part of the OpenAPI document (see [`super::protocollo`]).

use serde_json::{Map, Value, json};

use super::openapi::{error_response, ok_json, staff};

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

fn reg() -> Value {
    json!({ "$ref": "#/components/schemas/Registrazione" })
}

fn json_body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

/// The paths and the schemas.
pub fn parts() -> (Map<String, Value>, Map<String, Value>) {
    let text = json!({ "type": "string" });
    let opt_text = json!({ "type": ["string", "null"] });
    let q = |name: &str, ty: &str, d: &str| json!({ "name": name, "in": "query", "required": false, "description": d, "schema": { "type": ty } });
    let paths = json!({
        "/protocollo": {
            "get": staff(json!({
                "operationId": "cercaProtocollo",
                "summary": "Ricerca nel registro di protocollo (dalla registrazione più recente)",
                "parameters": [
                    q("anno", "integer", "Anno del registro"),
                    q("dal", "string", "Registrate dal giorno (AAAA-MM-GG, ora di Roma)"),
                    q("al", "string", "Registrate fino al giorno compreso"),
                    q("corrispondente", "string", "Testo nel mittente o nei destinatari (nome, codice fiscale, IPA, e-mail)"),
                    q("oggetto", "string", "Parole dell'oggetto, tutte presenti"),
                    q("classifica", "string", "Classificazione, con le sue suddivisioni (VI trova VI.3)"),
                    q("flusso", "string", "E, U oppure I"),
                    q("prima", "integer", "Paginazione: il valore next della pagina precedente"),
                    q("limite", "integer", "Quante al massimo (1-200, predefinito 50)")
                ],
                "responses": {
                    "200": ok_json("Registrazioni trovate", json!({ "type": "object", "required": ["items"], "properties": {
                        "items": { "type": "array", "items": reg() },
                        "next": { "type": ["integer", "null"] } } })),
                    "400": error_response("Parametro non valido (invalid_query, invalid_date, invalid_flow)")
                }
            })),
            "post": staff(json!({
                "operationId": "registraProtocollo",
                "summary": "Registrazione di protocollo (DPR 445/2000 art. 53): numero, data e ora assegnati in un'unica operazione",
                "description": "Due forme: «dati» (JSON) con «documento» e «allegati»; oppure «eml», il messaggio di posta ricevuto (.eml), registrato in entrata così come è stato ricevuto come documento principale, con i suoi allegati MIME come allegati (ciascuno verificato dal contenuto) e mittente, oggetto, data (giorno civile a Roma di Date) e numero (Message-ID) presi dal messaggio, salvo quanto indicato in «dati» facoltativo (DatiEml); «allegati» aggiunge altri allegati.",
                "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": {
                    "type": "object",
                    "properties": {
                        "dati": { "oneOf": [ { "$ref": "#/components/schemas/NuovaRegistrazione" }, { "$ref": "#/components/schemas/DatiEml" } ] },
                        "documento": { "type": "string", "contentMediaType": "application/octet-stream", "description": "Documento principale; il tipo è riconosciuto dal contenuto (PDF/PDF-A, .p7m, XML, ODF/OOXML, immagini, .eml)" },
                        "eml": { "type": "string", "contentMediaType": "message/rfc822", "description": "Il messaggio di posta ricevuto (.eml), al posto di «documento»" },
                        "allegati": { "type": "array", "items": { "type": "string", "contentMediaType": "application/octet-stream" } }
                    } } } } },
                "responses": {
                    "201": ok_json("Registrazione fatta", reg()),
                    "413": error_response("File o richiesta troppo grandi"),
                    "415": error_response("Non è multipart/form-data"),
                    "422": error_response("Campi non validi (invalid_fields, primary_document, document_type_not_allowed, eml_invalid, eml_and_document, invalid_flow, …): nessun numero è consumato")
                }
            }))
        },
        "/protocollo/eml": {
            "post": staff(json!({
                "operationId": "leggiMessaggioEml",
                "summary": "Legge un messaggio di posta (.eml) e restituisce i campi che propone per la registrazione e i suoi allegati, senza registrare",
                "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": {
                    "type": "object", "required": ["eml"],
                    "properties": { "eml": { "type": "string", "contentMediaType": "message/rfc822" } } } } } },
                "responses": {
                    "200": ok_json("Quanto propone il messaggio", json!({ "type": "object", "properties": {
                        "eml": { "type": "object", "properties": { "name": { "type": "string" }, "media_type": { "type": "string" }, "size": { "type": "integer" }, "sha256": { "type": "string" } } },
                        "flow": { "const": "E" },
                        "subject": { "type": ["string", "null"] },
                        "from_name": { "type": ["string", "null"] },
                        "from_address": { "type": ["string", "null"] },
                        "sent_at": { "type": ["string", "null"], "format": "date-time" },
                        "received_date": { "type": ["string", "null"], "format": "date", "description": "Giorno civile a Roma dell'intestazione Date" },
                        "received_number": { "type": ["string", "null"], "description": "Message-ID" },
                        "attachments": { "type": "array", "items": { "type": "object", "properties": {
                            "name": { "type": "string" }, "declared_type": { "type": "string" }, "size": { "type": "integer" },
                            "media_type": { "type": ["string", "null"], "description": "Tipo riconosciuto dal contenuto, se ammesso" },
                            "sha256": { "type": "string" },
                            "refusal": { "type": ["string", "null"], "description": "Perché il tipo non è ammesso: la registrazione sarebbe rifiutata" } } } } } })),
                    "413": error_response("File troppo grande"),
                    "415": error_response("Non è multipart/form-data"),
                    "422": error_response("eml_missing, eml_invalid, eml_repeated, document_type_not_allowed")
                }
            }))
        },
        "/protocollo/tempi": {
            "get": staff(json!({
                "operationId": "tempiUffici",
                "summary": "Quanto attendono i documenti in ciascun ufficio",
                "description": "Una riga per ufficio (tutte le sue assegnazioni), seguita da una per ciascuna persona dell'ufficio a cui sono state assegnate per nome (user, person).",
                "responses": { "200": ok_json("Per ufficio e per persona", json!({ "type": "array", "items": { "type": "object", "properties": {
                    "office": { "type": "integer" }, "user": { "type": "integer" }, "person": text,
                    "handled": { "type": "integer" }, "waiting": { "type": "integer" },
                    "average_seconds": { "type": "integer" }, "longest_seconds": { "type": "integer" } } } })) }
            }))
        },
        "/protocollo/{anno}/{numero}": {
            "get": staff(json!({
                "operationId": "protocolloPerNumero",
                "summary": "Una registrazione per anno e numero",
                "parameters": [path_param("anno", "Anno"), path_param("numero", "Numero (anche senza zeri iniziali)")],
                "responses": { "200": ok_json("La registrazione", reg()), "404": error_response("Nessuna registrazione") }
            }))
        },
        "/protocollo/voci/{id}": {
            "get": staff(json!({
                "operationId": "voceProtocollo",
                "summary": "Una registrazione con le sue assegnazioni e il percorso",
                "parameters": [path_param("id", "Identificativo della registrazione")],
                "responses": { "200": ok_json("La registrazione e il percorso", json!({ "type": "object", "properties": {
                    "registration": reg(),
                    "handoffs": { "type": "array", "items": { "$ref": "#/components/schemas/Assegnazione" } },
                    "timeline": { "type": "array", "items": { "type": "object", "properties": {
                        "handoff": { "type": "integer" }, "action": text, "actor": text, "at": text, "note": opt_text } } },
                    "signatures": { "$ref": "#/components/schemas/VerificaFirme" },
                    "changes": { "type": "array", "description": "Modifiche di classificazione e ufficio (DPR 445/2000 art. 53), dalla più vecchia", "items": { "type": "object", "properties": {
                        "seq": { "type": "integer" }, "at": text, "by": text, "old_classification": opt_text, "new_classification": opt_text,
                        "old_office": { "type": ["integer", "null"] }, "new_office": { "type": ["integer", "null"] } } } } } })),
                    "404": error_response("Nessuna registrazione") }
            }))
        },
        "/protocollo/voci/{id}/documenti/{n}": {
            "get": staff(json!({
                "operationId": "documentoProtocollo",
                "summary": "Scarica un documento registrato (0 il principale, poi gli allegati)",
                "parameters": [path_param("id", "Identificativo della registrazione"), path_param("n", "0, 1, 2…")],
                "responses": { "200": { "description": "Il documento, con il tipo riconosciuto alla registrazione" }, "404": error_response("Nessun documento") }
            }))
        },
        "/protocollo/voci/{id}/segnatura": {
            "get": staff(json!({
                "operationId": "segnaturaProtocollo",
                "summary": "Scarica la segnatura di protocollo (XML firmato con il sigillo dell'AOO, o quella ricevuta)",
                "parameters": [path_param("id", "Identificativo della registrazione")],
                "responses": { "200": { "description": "La segnatura (application/xml)" }, "404": error_response("Nessuna segnatura") }
            }))
        },
        "/protocollo/voci/{id}/ricevuta": {
            "get": staff(json!({
                "operationId": "ricevutaProtocollo",
                "summary": "Scarica la ricevuta di protocollo (PDF/A-3 con la prova di inclusione nel registro di tracciabilità, verificabile con palazzo verify-receipt)",
                "parameters": [path_param("id", "Identificativo della registrazione")],
                "responses": {
                    "200": { "description": "La ricevuta (application/pdf, come allegato)", "content": { "application/pdf": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": error_response("Nessuna registrazione"),
                    "503": error_response("receipt_not_ready: la registrazione non è ancora coperta da un checkpoint firmato; riprovare dopo Retry-After secondi")
                }
            }))
        },
        "/protocollo/voci/{id}/classificazione": {
            "post": staff(json!({
                "operationId": "classificaProtocollo",
                "summary": "Cambia classificazione e ufficio (gli unici campi modificabili); ogni altro campo → 422 fixed_field",
                "parameters": [path_param("id", "Identificativo della registrazione")],
                "requestBody": json_body("Classificazione"),
                "responses": { "200": ok_json("La registrazione aggiornata", reg()), "422": error_response("fixed_field, classifica_unknown, office_unknown") }
            }))
        },
        "/protocollo/voci/{id}/annullamento": {
            "post": staff(json!({
                "operationId": "annullaProtocollo",
                "summary": "Annulla la registrazione (DPR 445/2000 art. 54): resta leggibile come annullata",
                "parameters": [path_param("id", "Identificativo della registrazione")],
                "requestBody": json_body("Annullamento"),
                "responses": { "200": ok_json("La registrazione annullata", reg()), "422": error_response("Motivo o provvedimento mancante, già annullata") }
            }))
        },
        "/protocollo/voci/{id}/assegnazioni": {
            "post": staff(json!({
                "operationId": "assegnaProtocollo",
                "summary": "Assegna il documento a un ufficio o a una persona del personale, per competenza o per conoscenza",
                "parameters": [path_param("id", "Identificativo della registrazione")],
                "requestBody": json_body("NuovaAssegnazione"),
                "responses": { "201": ok_json("L'assegnazione", json!({ "$ref": "#/components/schemas/Assegnazione" })), "422": error_response("handoff_kind, handoff_destinatario_mancante, office_unknown, handoff_persona_sconosciuta, handoff_persona_non_abilitata, handoff_persona_fuori_ufficio, handoff_ufficio_mancante") }
            }))
        },
        "/uffici/{office}/assegnazioni": {
            "get": staff(json!({
                "operationId": "assegnazioniUfficio",
                "summary": "Le assegnazioni aperte di un ufficio (la sua casella), anche quelle a una persona dell'ufficio",
                "parameters": [path_param("office", "Slug o identificativo dell'ufficio")],
                "responses": { "200": ok_json("Le assegnazioni, dalla più vecchia", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Assegnazione" } })), "404": error_response("Ufficio inesistente") }
            }))
        },
        "/uffici/{office}/rifiutate": {
            "get": staff(json!({
                "operationId": "rifiutateUfficio",
                "summary": "Le assegnazioni partite dall'ufficio e rifiutate, non ancora riassegnate né prese in visione",
                "parameters": [path_param("office", "Slug o identificativo dell'ufficio")],
                "responses": { "200": ok_json("Le rifiutate, dalla più vecchia", json!({ "type": "array", "items": { "$ref": "#/components/schemas/AssegnazioneRifiutata" } })), "404": error_response("Ufficio inesistente") }
            }))
        },
        "/assegnazioni/mie": {
            "get": staff(json!({
                "operationId": "mieAssegnazioni",
                "summary": "Le mie assegnazioni: quelle aperte assegnate per nome a chi chiama, e quelle che ha assegnato e che sono state rifiutate",
                "responses": { "200": ok_json("La casella personale", json!({ "type": "object", "required": ["assegnazioni", "rifiutate"], "properties": {
                    "assegnazioni": { "type": "array", "items": { "$ref": "#/components/schemas/Assegnazione" } },
                    "rifiutate": { "type": "array", "items": { "$ref": "#/components/schemas/AssegnazioneRifiutata" } } } })) }
            }))
        },
        "/assegnazioni/{id}": {
            "post": staff(json!({
                "operationId": "agisciSuAssegnazione",
                "summary": "Accetta, rifiuta (con motivo), chiude o inoltra un'assegnazione; riassegna o prende atto di una rifiutata",
                "description": "Un'assegnazione a un ufficio: il personale dell'ufficio. A una persona: quella persona, o chi gestisce le assegnazioni dell'ufficio (responsabile, dirigente); altrimenti 403. riassegna e prendi_atto: chi ha assegnato (la persona, o il personale dell'ufficio da cui è partita). L'inoltro è una sola transazione: se il destinatario è rifiutato l'assegnazione resta aperta e invariata.",
                "parameters": [path_param("id", "Identificativo dell'assegnazione")],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "required": ["action"], "properties": {
                    "action": { "enum": ["accetta", "rifiuta", "chiudi", "inoltra", "riassegna", "prendi_atto"] }, "note": opt_text,
                    "office": { "type": ["integer", "null"], "description": "Per inoltra e riassegna" },
                    "user": { "type": ["integer", "null"], "description": "Per inoltra e riassegna: una persona del personale" } } } } } },
                "responses": { "200": ok_json("L'assegnazione (per inoltra e riassegna, la nuova)", json!({ "$ref": "#/components/schemas/Assegnazione" })), "403": error_response("Assegnazione di un'altra persona o di un altro ufficio"), "422": error_response("Azione non valida o non consentita nello stato attuale (handoff_stato), destinatario non valido") }
            }))
        }
    });
    let document = json!({ "type": "object", "required": ["name", "media_type", "size", "sha256"], "properties": {
        "name": text, "media_type": text, "size": { "type": "integer" }, "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" } } });
    let correspondent = json!({ "type": "object", "required": ["name"], "properties": {
        "kind": { "enum": ["persona_fisica", "persona_giuridica", "amministrazione"] },
        "name": text, "fiscal_code": opt_text, "ipa": opt_text, "email": opt_text, "address": opt_text,
        "per_conoscenza": { "type": "boolean" } } });
    let schemas = json!({
        "Documento": document,
        "Corrispondente": correspondent,
        "Registrazione": { "type": "object", "properties": {
            "id": { "type": "integer" }, "register": text, "year": { "type": "integer" },
            "number": { "type": "string", "pattern": "^[0-9]{7,}$" }, "registered_at": text,
            "flow": { "enum": ["E", "U", "I"] }, "subject": text,
            "correspondents": { "type": "array", "items": { "$ref": "#/components/schemas/Corrispondente" } },
            "received_number": opt_text, "received_date": opt_text,
            "primary": { "$ref": "#/components/schemas/Documento" },
            "attachments": { "type": "array", "items": { "$ref": "#/components/schemas/Documento" } },
            "registered_by": text, "classification": opt_text, "office": { "type": ["integer", "null"] },
            "emergency": opt_text,
            "annulment": { "type": ["object", "null"], "properties": { "at": text, "by": text, "reason": text, "act": text } } } },
        "DatiEml": { "type": "object", "additionalProperties": false, "description": "Campi che sostituiscono quelli proposti dal messaggio .eml",
            "properties": {
                "flow": { "const": "E" },
                "subject": { "type": "string" },
                "correspondents": { "type": "array", "items": { "type": "object" } },
                "received_number": { "type": "string" },
                "received_date": { "type": "string", "format": "date" },
                "classification": { "type": "string" },
                "office": { "type": "integer" } } },
        "NuovaRegistrazione": { "type": "object", "additionalProperties": false, "required": ["flow", "subject"], "properties": {
            "flow": { "enum": ["E", "U", "I"] }, "subject": text,
            "correspondents": { "type": "array", "items": { "$ref": "#/components/schemas/Corrispondente" } },
            "received_number": opt_text, "received_date": { "type": ["string", "null"], "format": "date" },
            "classification": opt_text, "office": { "type": ["integer", "null"] } } },
        "Classificazione": { "type": "object", "description": "Un campo assente resta com'è; null lo svuota", "properties": { "classification": opt_text, "office": { "type": ["integer", "null"] } } },
        "Annullamento": { "type": "object", "additionalProperties": false, "required": ["reason", "act"], "properties": { "reason": text, "act": text } },
        "Assegnazione": { "type": "object", "properties": {
            "id": { "type": "integer" },
            "registration": { "type": "integer", "description": "La registrazione assegnata (assente per un fascicolo)" },
            "fascicolo": { "type": "integer", "description": "Il fascicolo assegnato (assente per una registrazione)" },
            "kind": { "enum": ["competenza", "conoscenza"] },
            "office": { "type": "integer" },
            "user": { "type": "integer", "description": "La persona a cui è assegnata per nome (assente per un ufficio)" },
            "person": { "type": "string", "description": "Il nome di quella persona" },
            "parent": { "type": "integer", "description": "L'assegnazione che continua (inoltro o riassegnazione dopo un rifiuto)" },
            "from": { "type": "object", "description": "Da dove è stata assegnata: lì torna se rifiutata", "properties": {
                "office": { "type": "integer" }, "user": { "type": "integer" }, "person": text } },
            "state": { "enum": ["assegnato", "accettato", "rifiutato", "inoltrato", "chiuso"] },
            "assigned_at": text, "updated_at": text } },
        "NuovaAssegnazione": { "type": "object", "additionalProperties": false, "required": ["kind"],
            "description": "Almeno uno fra office e user. Una persona senza ufficio va all'unico ufficio in cui lavora.",
            "properties": {
                "office": { "type": ["integer", "null"] }, "user": { "type": ["integer", "null"], "description": "Una persona del personale del Comune con un ruolo attivo che lavora le pratiche" },
                "kind": { "enum": ["competenza", "conoscenza"] }, "note": opt_text } },
        "AssegnazioneRifiutata": { "type": "object", "required": ["handoff", "refused_by", "refused_at"], "properties": {
            "handoff": { "$ref": "#/components/schemas/Assegnazione" }, "reason": opt_text, "refused_by": text, "refused_at": text } },
        "VerificaFirme": {
            "type": "object",
            "description": "Rapporto di verifica delle firme della registrazione (segnatura ricevuta, documenti .p7m), eseguita alla richiesta con l'elenco di fiducia attuale dell'ente",
            "required": ["verified_at", "segnatura", "documents"],
            "properties": {
                "verified_at": { "type": "string", "format": "date-time" },
                "segnatura": { "oneOf": [{ "type": "null" }, { "type": "object", "properties": {
                    "signer": opt_text, "issuer": opt_text, "signing_time": opt_text,
                    "signature_valid": { "type": "boolean" }, "trusted": { "type": "boolean" }, "problem": opt_text } }] },
                "documents": { "type": "array", "items": { "type": "object", "properties": {
                    "name": text, "sha256": text, "primary": { "type": "boolean" },
                    "report": { "type": "object", "properties": {
                        "detached": { "type": "boolean" }, "envelope_problem": opt_text, "verified_at": text,
                        "signatures": { "type": "array", "items": { "$ref": "#/components/schemas/FirmaVerificata" } } } } } } }
            }
        },
        "FirmaVerificata": { "type": "object", "properties": {
            "signer": opt_text, "issuer": opt_text, "seal": { "type": "boolean" },
            "signing_time": opt_text, "time_stamp": opt_text, "time_stamp_authority": opt_text,
            "signature_valid": { "type": "boolean" }, "trusted": { "type": "boolean" }, "nesting": { "type": "integer" },
            "problem": { "oneOf": [{ "type": "null" }, { "type": "object", "properties": {
                "kind": { "enum": ["firma", "marca_temporale", "sigillo"] }, "detail": text } }] } } }
    });
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let (mut paths, mut schemas) = (as_map(paths), as_map(schemas));
    let (more_paths, more_schemas) = registri_parts();
    paths.extend(as_map(more_paths));
    schemas.extend(as_map(more_schemas));
    (paths, schemas)
}

/// The registri giornalieri (see [`super::registri`]).
fn registri_parts() -> (Value, Value) {
    let text = json!({ "type": "string" });
    let doc = json!({ "$ref": "#/components/schemas/Documento" });
    let paths = json!({
        "/protocollo/registri": {
            "get": staff(json!({
                "operationId": "registriGiornalieri",
                "summary": "I registri giornalieri di protocollo, dal più recente (PDF/A e XML, con il checkpoint del registro degli eventi)",
                "parameters": [ { "name": "limite", "in": "query", "required": false, "description": "Quanti al massimo (1-1000, predefinito 100)", "schema": { "type": "integer" } } ],
                "responses": {
                    "200": ok_json("I registri", json!({ "type": "array", "items": { "$ref": "#/components/schemas/RegistroGiornaliero" } })),
                    "400": error_response("Parametro non valido (invalid_query)")
                }
            }))
        },
        "/protocollo/registri/{code}/{formato}": {
            "get": staff(json!({
                "operationId": "fileRegistroGiornaliero",
                "summary": "Scarica il PDF/A o l'XML di un registro giornaliero, verificato con l'impronta registrata",
                "parameters": [path_param("code", "Identificativo del registro (<IPA><AOO>-AAAAMMGG-NNN)"), path_param("formato", "pdf oppure xml")],
                "responses": { "200": { "description": "Il file (application/pdf o application/xml)" }, "404": error_response("Nessun registro o formato sconosciuto") }
            }))
        }
    });
    let schemas = json!({
        "RegistroGiornaliero": { "type": "object", "properties": {
            "code": text, "day": { "type": "string", "format": "date" }, "register": text,
            "repertorio_number": { "type": "integer" },
            "first_number": { "type": ["integer", "null"] }, "last_number": { "type": ["integer", "null"] },
            "registrations": { "type": "integer" },
            "modifications": { "type": "integer", "description": "Modifiche del giorno: cambi di classificazione e di ufficio, annullamenti di registrazioni dei giorni precedenti" },
            "document_versions": { "type": "integer", "description": "Nuove versioni dei documenti registrate nel giorno" },
            "annulment_notices": { "type": "integer", "description": "Annullamenti comunicati dai mittenti nel giorno" },
            "pdf": doc, "xml": doc,
            "checkpoint_size": { "type": ["integer", "null"] }, "timestamped": { "type": "boolean" },
            "produced_at": text, "produced_by": text,
            "conservation_state": { "enum": ["pronto", "inviato", "conservato"] },
            "conservation_deadline": { "type": "string", "format": "date" } } }
    });
    (paths, schemas)
}

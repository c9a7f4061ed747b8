//! The online istanze part of the OpenAPI document (see
//! [`super::istanze`]).

use serde_json::{Map, Value, json};

use super::openapi::{error_response, ok_json, staff};

/// An operation for a signed-in citizen (session or key of a citizen).
fn citizen(op: Value) -> Value {
    let mut op = staff(op);
    op["responses"]["403"] =
        error_response("Riservato ai cittadini che hanno effettuato l'accesso");
    op
}

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn body(name: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema(name) } } })
}

/// A body that is JSON (schema `name`) or `multipart/form-data` with the
/// same fields as text parts and one file (`file_doc`).
fn body_with_file(name: &str, file_doc: &str) -> Value {
    json!({ "required": true, "content": {
        "application/json": { "schema": schema(name) },
        "multipart/form-data": { "schema": { "allOf": [schema(name), { "type": "object", "properties": {
            "file": { "type": "string", "contentMediaType": "application/octet-stream", "description": file_doc }
        } }] } }
    } })
}

fn param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

fn id() -> Value {
    param("id", "Identificativo numerico")
}

fn slug() -> Value {
    json!({ "name": "slug", "in": "path", "required": true, "description": "Slug della scheda del servizio",
        "schema": { "type": "string", "pattern": "^[a-z0-9-]+$" } })
}

/// The responses of a call whose body may be multipart with a file.
fn with_file_errors(mut responses: Value) -> Value {
    responses["413"] = error_response("Corpo troppo grande");
    responses["415"] =
        error_response("Content-Type diverso da application/json e multipart/form-data");
    let more = "; per il file: upload_invalid (multipart non valido), allegato_tipo_non_ammesso, allegato_troppo_grande, allegato_uno_solo, invalid_fields";
    if let Some(d) = responses["422"]["description"].as_str() {
        responses["422"]["description"] = Value::String(format!("{d}{more}"));
    }
    responses
}

fn json_errors() -> [(&'static str, Value); 2] {
    [
        ("400", error_response("JSON non valido (invalid_json)")),
        (
            "415",
            error_response("Content-Type diverso da application/json"),
        ),
    ]
}

fn with(mut op: Value, extra: [(&'static str, Value); 2]) -> Value {
    if let Some(r) = op["responses"].as_object_mut() {
        for (k, v) in extra {
            r.insert(k.into(), v);
        }
    }
    op
}

/// The paths and the schemas.
pub fn parts() -> (Map<String, Value>, Map<String, Value>) {
    let text = json!({ "type": "string" });
    let opt_text = json!({ "type": ["string", "null"] });
    let int = json!({ "type": "integer" });
    let opt_int = json!({ "type": ["integer", "null"] });
    let boolean = json!({ "type": "boolean" });
    let time = json!({ "type": "string", "format": "date-time" });
    let date = json!({ "type": "string", "format": "date" });
    let opt_date = json!({ "type": ["string", "null"], "format": "date" });
    let raw = json!({ "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } });
    let field_errors = json!({
        "description": "Il passo è stato salvato così com'è, ma ha errori: error (il primo codice), message e l'elenco errori",
        "content": { "application/json": { "schema": {
            "type": "object", "required": ["error", "message", "errori"],
            "properties": {
                "error": text, "message": text,
                "errori": { "type": "array", "items": schema("ErroreCampo") }
            } } } }
    });
    let action_responses = |d: &str| {
        json!({
            "200": ok_json(d, schema("Pratica")),
            "400": error_response("JSON non valido (invalid_json)"),
            "404": error_response("Pratica inesistente o non visibile a chi chiama"),
            "409": error_response("pratica_stato_cambiato: la pratica non è più nello stato atteso"),
            "415": error_response("Content-Type diverso da application/json"),
            "422": error_response("pratica_azione_sconosciuta, pratica_nota, procedura_transizione_non_ammessa, procedura_ruolo_non_ammesso, procedura_integrazione_gia_richiesta, procedura_rigetto_senza_preavviso e gli altri codici della procedura")
        })
    };
    let paths = json!({
        "/servizi-online": {
            "get": {
                "operationId": "listServiziOnline",
                "summary": "I servizi richiedibili online, con la versione del modulo, il termine di legge e il silenzio-assenso",
                "responses": {
                    "200": ok_json("I servizi, per titolo", json!({ "type": "array", "items": schema("ServizioOnline") }))
                }
            }
        },
        "/servizi-online/{slug}/definizione": {
            "get": {
                "operationId": "getDefinizioneServizio",
                "summary": "La definizione corrente di un servizio online (modulo, procedimento, classificazione, oggetto), nel formato dei file di definizione (docs/istanze.md)",
                "parameters": [slug()],
                "responses": {
                    "200": ok_json("La definizione", schema("DefinizioneServizio")),
                    "404": error_response("Servizio senza definizione")
                }
            },
            "post": with(staff(json!({
                "operationId": "salvaDefinizioneServizio",
                "summary": "Amministrazione: salva una nuova versione della definizione (la versione del modulo è assegnata)",
                "parameters": [slug()],
                "requestBody": body("DefinizioneServizio"),
                "responses": {
                    "201": ok_json("La versione salvata", schema("VersioneDefinizione")),
                    "422": error_response("servizio_definizione_non_valida, servizio_non_corrispondente, servizio_sconosciuto, servizio_oggetto, servizio_classificazione, i codici del modulo (modulo_…) e della procedura (procedura_…, ad esempio il silenzio-assenso escluso dall'art. 20, c. 4, L. 241/1990); il messaggio elenca ogni problema")
                }
            })), json_errors())
        },
        "/bozze": {
            "get": citizen(json!({
                "operationId": "mieBozze",
                "summary": "Le bozze del cittadino, dall'ultima salvata",
                "responses": { "200": ok_json("Le bozze", json!({ "type": "array", "items": schema("BozzaSintesi") })) }
            })),
            "post": with(citizen(json!({
                "operationId": "iniziaBozza",
                "summary": "Inizia la bozza di un'istanza online",
                "requestBody": body("NuovaBozza"),
                "responses": {
                    "201": ok_json("La bozza, con i valori precompilati", schema("Bozza")),
                    "404": error_response("Servizio inesistente"),
                    "422": error_response("servizio_non_online, bozze_troppe, invalid_fields")
                }
            })), json_errors())
        },
        "/bozze/{id}": {
            "get": citizen(json!({
                "operationId": "miaBozza",
                "summary": "Una bozza: passi, risposte, passo corrente, allegati",
                "parameters": [id()],
                "responses": {
                    "200": ok_json("La bozza", schema("Bozza")),
                    "404": error_response("Bozza inesistente o di un'altra persona")
                }
            }))
        },
        "/bozze/{id}/passi/{step}": {
            "post": with(citizen(json!({
                "operationId": "salvaPasso",
                "summary": "Salva un passo del modulo: per ogni campo una stringa o un elenco di stringhe (i campi composti come campo.via)",
                "parameters": [id(), param("step", "Identificativo del passo"),
                    { "name": "navigazione", "in": "query", "required": false,
                      "description": "avanti (predefinito: il passo deve essere valido), indietro oppure salva (salvato anche con errori)",
                      "schema": { "enum": ["avanti", "indietro", "salva"] } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object",
                    "additionalProperties": { "oneOf": [ { "type": "string" }, { "type": "array", "items": { "type": "string" } } ] } } } } },
                "responses": {
                    "200": ok_json("Salvato: il passo successivo (null: restano il riepilogo e l'invio)", schema("PassoSalvato")),
                    "404": error_response("Bozza inesistente o di un'altra persona"),
                    "422": field_errors
                }
            })), json_errors())
        },
        "/bozze/{id}/allegati": {
            "post": citizen(json!({
                "operationId": "allegaFile",
                "summary": "Allega un file alla bozza (controllato per contenuto, tipo e dimensione)",
                "parameters": [id()],
                "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": {
                    "type": "object", "required": ["allegato", "file"],
                    "properties": {
                        "allegato": { "type": "string", "description": "Identificativo dell'allegato previsto dal modulo" },
                        "file": { "type": "string", "contentMediaType": "application/octet-stream" }
                    } } } } },
                "responses": {
                    "201": ok_json("Il file allegato", schema("Allegato")),
                    "400": error_response("Corpo multipart non valido (invalid_multipart)"),
                    "404": error_response("Bozza inesistente o di un'altra persona"),
                    "413": error_response("File troppo grande"),
                    "415": error_response("Content-Type diverso da multipart/form-data"),
                    "422": error_response("allegato_mancante, allegato_non_previsto, allegato_tipo_non_ammesso, allegato_troppi_file e i limiti di dimensione")
                }
            }))
        },
        "/bozze/{id}/allegati/{aid}/eliminazione": {
            "post": citizen(json!({
                "operationId": "rimuoviFile",
                "summary": "Rimuove un file dalla bozza",
                "parameters": [id(), param("aid", "Identificativo del file")],
                "responses": {
                    "204": { "description": "Rimosso" },
                    "404": error_response("Bozza o file inesistente")
                }
            }))
        },
        "/bozze/{id}/eliminazione": {
            "post": citizen(json!({
                "operationId": "eliminaBozza",
                "summary": "Elimina una bozza",
                "parameters": [id()],
                "responses": {
                    "204": { "description": "Eliminata" },
                    "404": error_response("Bozza inesistente o di un'altra persona")
                }
            }))
        },
        "/bozze/{id}/invio": {
            "post": with(citizen(json!({
                "operationId": "inviaIstanza",
                "summary": "Presenta l'istanza: protocollo, fascicolo, assegnazione all'ufficio e termine, in una sola transazione. Una richiesta ripetuta con la stessa chiave risponde 200 con la stessa ricevuta senza presentare due volte",
                "parameters": [id(), { "name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "La chiave della bozza (in alternativa al campo chiave)", "schema": { "type": "string" } }],
                "requestBody": body("Invio"),
                "responses": {
                    "200": ok_json("Già presentata: la stessa ricevuta", schema("Presentazione")),
                    "201": ok_json("Presentata: la ricevuta (art. 18-bis L. 241/1990)", schema("Presentazione")),
                    "404": error_response("Bozza inesistente o di un'altra persona"),
                    "422": error_response("pratica_chiave_mancante, pratica_chiave_non_valida, modulo_campo_obbligatorio, modulo_allegato_mancante, modulo_dichiarazione_mancante e gli altri codici del modulo")
                }
            })), json_errors())
        },
        "/pratiche": {
            "get": citizen(json!({
                "operationId": "miePratiche",
                "summary": "Le pratiche del cittadino, dalla più recente",
                "responses": { "200": ok_json("Le pratiche", json!({ "type": "array", "items": schema("PraticaSintesi") })) }
            }))
        },
        "/pratiche/{id}": {
            "get": citizen(json!({
                "operationId": "miaPratica",
                "summary": "Una pratica del cittadino: stato, passaggi, termine, orologio, documenti e azioni possibili",
                "parameters": [id()],
                "responses": {
                    "200": ok_json("La pratica", schema("Pratica")),
                    "404": error_response("Pratica inesistente o di un'altra persona")
                }
            }))
        },
        "/pratiche/{id}/azioni": {
            "post": citizen(json!({
                "operationId": "azioneRichiedente",
                "summary": "Un'azione del richiedente sulla propria pratica (ad esempio ritiro)",
                "parameters": [id()],
                "requestBody": body("Azione"),
                "responses": action_responses("La pratica nel nuovo stato")
            }))
        },
        "/area-personale": {
            "get": citizen(json!({
                "operationId": "scrivania",
                "summary": "L'area personale: messaggi del Comune, attività, notifiche (integrazioni richieste, bozze, appuntamenti, bolli) e servizi usati",
                "responses": { "200": ok_json("La scrivania", schema("Scrivania")) }
            }))
        },
        "/pratiche/{id}/passi/{seq}/documento": {
            "get": citizen(json!({
                "operationId": "documentoPassoPratica",
                "summary": "Il documento di una fase della propria pratica (il provvedimento, una richiesta dell'ufficio, la propria integrazione), come protocollato",
                "parameters": [id(), param("seq", "Numero della fase nella storia della pratica")],
                "responses": {
                    "200": { "description": "Il documento (Content-Disposition: attachment; Cache-Control: private, no-store)",
                             "content": { "application/pdf": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": error_response("Pratica di altri, fase inesistente o senza documento")
                }
            }))
        },
        "/uffici/{office}/pratiche": {
            "get": staff(json!({
                "operationId": "praticheUfficio",
                "summary": "Le pratiche aperte di un ufficio, dalla scadenza più vicina (scadute per prime)",
                "parameters": [param("office", "Slug dell'ufficio"),
                    { "name": "scadute", "in": "query", "required": false, "description": "Solo quelle oltre il termine", "schema": { "type": "boolean" } }],
                "responses": {
                    "200": ok_json("Le pratiche", json!({ "type": "array", "items": schema("PraticaSintesi") })),
                    "404": error_response("Ufficio inesistente")
                }
            }))
        },
        "/backoffice/pratiche/{id}": {
            "get": staff(json!({
                "operationId": "praticaUfficio",
                "summary": "Una pratica dell'ufficio con la storia completa",
                "parameters": [id()],
                "responses": {
                    "200": ok_json("La pratica", schema("Pratica")),
                    "404": error_response("Pratica inesistente o di un altro ufficio")
                }
            }))
        },
        "/backoffice/pratiche/{id}/azioni": {
            "post": staff(json!({
                "operationId": "azioneUfficio",
                "summary": "Un passo del procedimento (presa in carico, richiesta di integrazione, preavviso di rigetto, accoglimento, …); i provvedimenti sono protocollati in uscita",
                "parameters": [id()],
                "requestBody": body("Azione"),
                "responses": action_responses("La pratica nel nuovo stato")
            }))
        },
        "/pratiche/{id}/messaggi": {
            "post": citizen(json!({
                "operationId": "messaggioRichiedente",
                "summary": "Un messaggio del richiedente all'ufficio (422 messaggio_vuoto, pratica_archiviata)",
                "parameters": [id()],
                "requestBody": body_with_file("Messaggio", "Un file facoltativo (PDF, P7M, JPEG o PNG, riconosciuto dal contenuto, al massimo 10 MB; uno solo)"),
                "responses": with_file_errors(action_responses("La pratica con il messaggio"))
            }))
        },
        "/backoffice/pratiche/{id}/messaggi": {
            "post": staff(json!({
                "operationId": "messaggioUfficio",
                "summary": "Un messaggio dell'ufficio al richiedente (inviato anche per e-mail) o una nota interna (pubblico: false)",
                "parameters": [id()],
                "requestBody": body_with_file("Messaggio", "Un file facoltativo (PDF, P7M, JPEG o PNG, riconosciuto dal contenuto, al massimo 10 MB; uno solo)"),
                "responses": with_file_errors(action_responses("La pratica con il messaggio"))
            }))
        },
        "/backoffice/pratiche/{id}/assegnazione": {
            "post": staff(json!({
                "operationId": "assegnazionePratica",
                "summary": "Assegna il responsabile del procedimento (art. 5 L. 241/1990) a un componente dell'ufficio; solo responsabile o dirigente (422 pratica_responsabile_non_ammesso, 409 pratica_stato_cambiato)",
                "parameters": [id()],
                "requestBody": body("Assegnazione"),
                "responses": action_responses("La pratica assegnata")
            }))
        },
        "/backoffice/pratiche/{id}/trasferimento": {
            "post": staff(json!({
                "operationId": "trasferimentoPratica",
                "summary": "Trasferisce la pratica per competenza a un altro ufficio, con il motivo; l'assegnazione del protocollo segue (422 pratica_stesso_ufficio, pratica_motivo)",
                "parameters": [id()],
                "requestBody": body("Trasferimento"),
                "responses": action_responses("La pratica trasferita")
            }))
        },
        "/backoffice/pratiche/{id}/pareri": {
            "post": staff(json!({
                "operationId": "richiestaParereInterno",
                "summary": "Chiede un parere a un altro ufficio del Comune (art. 16 L. 241/1990), con scadenza (predefinita 20 giorni)",
                "parameters": [id()],
                "requestBody": body("RichiestaParere"),
                "responses": action_responses("La pratica con il parere chiesto")
            }))
        },
        "/backoffice/pratiche/{id}/pareri/{seq}/risposta": {
            "post": staff(json!({
                "operationId": "rispostaParereInterno",
                "summary": "Il parere dell'ufficio a cui è stato chiesto (422 parere_ufficio_non_destinatario, parere_gia_reso, parere_testo)",
                "parameters": [id(), param("seq", "Numero della fase della richiesta di parere")],
                "requestBody": body_with_file("RispostaParere", "Il parere firmato, facoltativo (PDF, P7M, JPEG o PNG, riconosciuto dal contenuto, al massimo 10 MB; uno solo)"),
                "responses": with_file_errors(json!({
                    "200": ok_json("Il parere reso", schema("ParereInterno")),
                    "404": error_response("Richiesta di parere inesistente o non visibile"),
                    "422": error_response("Parere non ammesso (codice nel campo error)")
                }))
            }))
        },
        "/backoffice/pratiche/{id}/pareri/{seq}/documento": {
            "get": staff(json!({
                "operationId": "documentoParereInterno",
                "summary": "Il documento allegato alla risposta a un parere interno, per il personale dell'ufficio della pratica e di quello che ha reso il parere (mai per il richiedente)",
                "parameters": [id(), param("seq", "Numero della fase della richiesta di parere")],
                "responses": {
                    "200": { "description": "Il documento (Content-Disposition: attachment; Cache-Control: private, no-store)",
                             "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": error_response("Richiesta inesistente, senza documento o di uffici diversi dal proprio")
                }
            }))
        },
        "/backoffice/pratiche/{id}/messaggi/{seq}/documento": {
            "get": staff(json!({
                "operationId": "fileMessaggioUfficio",
                "summary": "Il file di un messaggio della pratica (anche di una nota interna), per il personale dell'ufficio della pratica",
                "parameters": [id(), param("seq", "Numero della fase del messaggio")],
                "responses": {
                    "200": { "description": "Il file (Content-Disposition: attachment; Cache-Control: private, no-store)",
                             "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": error_response("Pratica di un altro ufficio, fase inesistente, non un messaggio o senza file")
                }
            }))
        },
        "/pratiche/{id}/messaggi/{seq}/documento": {
            "get": citizen(json!({
                "operationId": "fileMessaggioRichiedente",
                "summary": "Il file di un messaggio della propria pratica (proprio o dell'ufficio; mai di una nota interna)",
                "parameters": [id(), param("seq", "Numero della fase del messaggio")],
                "responses": {
                    "200": { "description": "Il file (Content-Disposition: attachment; Cache-Control: private, no-store)",
                             "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": error_response("Pratica di altri, fase inesistente, nota interna o senza file")
                }
            }))
        },
        "/uffici/{office}/pareri": {
            "get": staff(json!({
                "operationId": "pareriUfficio",
                "summary": "I pareri chiesti a un ufficio, prima quelli da rendere per scadenza",
                "parameters": [param("office", "Slug dell'ufficio")],
                "responses": {
                    "200": ok_json("I pareri", json!({ "type": "array", "items": schema("ParereInterno") })),
                    "404": error_response("Ufficio inesistente")
                }
            }))
        }
    });
    let file = json!({
        "type": "object",
        "required": ["id", "allegato", "nome", "tipo", "dimensione", "sha256", "caricato"],
        "properties": { "id": int, "allegato": text, "nome": text, "tipo": text, "dimensione": int, "sha256": text, "caricato": time }
    });
    let protocol = json!({
        "type": "object", "required": ["numero", "anno", "registrata"],
        "properties": { "numero": text, "anno": int, "registrata": time }
    });
    let schemas = json!({
        "ServizioOnline": {
            "type": "object",
            "required": ["slug", "titolo", "ufficio", "versione", "procedimento", "termine_giorni", "riferimento_normativo", "silenzio_assenso", "definizione"],
            "properties": {
                "slug": text, "titolo": text, "ufficio": opt_text, "versione": int, "procedimento": text,
                "termine_giorni": int, "riferimento_normativo": text, "silenzio_assenso": boolean, "definizione": text
            }
        },
        "DefinizioneServizio": {
            "type": "object",
            "description": "Definizione di un servizio online (chiavi in italiano, come i file TOML; docs/istanze.md)",
            "required": ["servizio", "classificazione", "oggetto", "modulo", "procedimento"],
            "properties": {
                "servizio": text, "classificazione": text, "oggetto": text,
                "modulo": { "type": "object" }, "procedimento": { "type": "object" }
            }
        },
        "VersioneDefinizione": {
            "type": "object", "required": ["servizio", "versione"],
            "properties": { "servizio": text, "versione": int }
        },
        "NuovaBozza": {
            "type": "object", "additionalProperties": false, "required": ["servizio"],
            "properties": { "servizio": text }
        },
        "BozzaSintesi": {
            "type": "object", "required": ["id", "servizio", "versione", "passo", "creata", "aggiornata"],
            "properties": { "id": int, "servizio": text, "versione": int, "passo": text, "creata": time, "aggiornata": time }
        },
        "Bozza": {
            "type": "object",
            "required": ["id", "servizio", "versione", "chiave", "passo", "passo_da_completare", "passi", "risposte", "allegati", "creata", "aggiornata"],
            "properties": {
                "id": int, "servizio": text, "versione": int,
                "chiave": { "type": "string", "description": "Da inviare con la presentazione" },
                "passo": text, "passo_da_completare": opt_text,
                "passi": { "type": "array", "items": { "type": "object", "required": ["id", "titolo"], "properties": { "id": text, "titolo": text } } },
                "risposte": { "type": "object", "additionalProperties": raw },
                "allegati": { "type": "array", "items": schema("Allegato") },
                "creata": time, "aggiornata": time
            }
        },
        "ErroreCampo": {
            "type": "object", "required": ["campo", "passo", "codice", "messaggio"],
            "properties": { "campo": text, "passo": opt_text, "codice": text, "messaggio": text }
        },
        "PassoSalvato": {
            "type": "object", "required": ["passo_successivo"],
            "properties": { "passo_successivo": opt_text }
        },
        "Allegato": file,
        "Invio": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "chiave": opt_text,
                "dichiarazioni": { "type": "array", "items": { "type": "string" }, "description": "Identificativi delle dichiarazioni spuntate" }
            }
        },
        "Protocollo": protocol,
        "Presentazione": {
            "type": "object",
            "required": ["pratica", "servizio", "protocollo", "ricevuta_il", "fascicolo", "ufficio", "scadenza", "silenzio_assenso", "stato"],
            "properties": {
                "pratica": int, "servizio": text, "protocollo": schema("Protocollo"), "ricevuta_il": date,
                "fascicolo": opt_text, "ufficio": text, "scadenza": opt_date, "silenzio_assenso": boolean, "stato": text
            }
        },
        "PraticaSintesi": {
            "type": "object",
            "required": ["id", "servizio", "oggetto", "richiedente", "stato", "ricevuta_il", "scadenza", "giorni_rimanenti", "scaduta", "conclusa"],
            "properties": {
                "id": int, "servizio": text, "oggetto": text, "richiedente": text, "stato": text,
                "ricevuta_il": date, "scadenza": opt_date, "giorni_rimanenti": opt_int, "scaduta": boolean, "conclusa": boolean
            }
        },
        "Orologio": {
            "type": "object",
            "required": ["ricevuta_il", "decorrenza", "termine_giorni", "scadenza", "giorni_sospesi", "giorni_trascorsi", "giorni_rimanenti", "sospesa_fino_al", "scaduta", "silenzio_assenso_dal"],
            "properties": {
                "ricevuta_il": date, "decorrenza": date, "termine_giorni": int, "scadenza": date,
                "giorni_sospesi": int, "giorni_trascorsi": int, "giorni_rimanenti": opt_int,
                "sospesa_fino_al": opt_date, "scaduta": boolean, "silenzio_assenso_dal": opt_date
            }
        },
        "Evento": {
            "type": "object", "required": ["seq", "azione", "momento", "data", "ruolo", "autore", "da", "a", "nota"],
            "properties": {
                "seq": int, "azione": text, "momento": time, "data": date, "ruolo": text,
                "autore": { "type": ["string", "null"], "description": "Solo per il personale" },
                "da": text, "a": text, "nota": opt_text,
                "documento": { "type": ["string", "null"], "description": "Per il richiedente: dove scaricare il documento della fase" },
                "registrazione": { "type": ["integer", "null"], "description": "Solo per il personale: la registrazione di protocollo del documento della fase" },
                "allegato": { "type": ["string", "null"], "description": "Per un messaggio con un file: dove scaricarlo (il percorso del personale o quello del richiedente)" }
            }
        },
        "Pratica": {
            "type": "object",
            "required": ["id", "servizio", "versione", "oggetto", "richiedente", "stato", "conclusa", "ufficio", "protocollo", "orologio", "storia", "documenti", "azioni"],
            "properties": {
                "id": int, "servizio": text, "versione": int, "oggetto": text, "richiedente": text,
                "stato": text, "conclusa": boolean, "ufficio": text,
                "protocollo": { "oneOf": [schema("Protocollo"), { "type": "null" }] },
                "orologio": schema("Orologio"),
                "storia": { "type": "array", "items": schema("Evento") },
                "documenti": { "type": "array", "items": schema("Allegato") },
                "azioni": { "type": "array", "items": { "type": "string" } },
                "responsabile": { "type": ["string", "null"], "description": "Il responsabile del procedimento (art. 5 L. 241/1990), se assegnato" },
                "pareri": { "type": "array", "items": schema("ParereInterno"), "description": "I pareri chiesti ad altri uffici (solo per l'ufficio)" }
            }
        },
        "Scrivania": {
            "type": "object", "required": ["messaggi", "attivita", "notifiche", "servizi"],
            "properties": {
                "messaggi": { "type": "array", "items": { "type": "object",
                    "required": ["momento", "mittente", "oggetto", "testo", "link", "email"],
                    "properties": { "momento": time, "mittente": text, "oggetto": text, "testo": text, "link": text, "email": opt_text } } },
                "attivita": { "type": "array", "items": { "type": "object",
                    "required": ["momento", "descrizione", "link"],
                    "properties": { "momento": time, "descrizione": text, "link": opt_text } } },
                "notifiche": { "type": "array", "items": { "type": "object",
                    "required": ["codice", "testo", "entro", "link"],
                    "properties": { "codice": { "type": "string", "enum": ["integrazione_richiesta", "osservazioni_richieste", "bozza_da_completare", "appuntamento", "bollo_da_assolvere"] },
                        "testo": text, "entro": { "type": ["string", "null"], "format": "date" }, "link": text } } },
                "servizi": { "type": "array", "items": { "type": "object",
                    "required": ["servizio", "titolo", "volte", "ultimo_uso", "link"],
                    "properties": { "servizio": text, "titolo": text, "volte": int, "ultimo_uso": time, "link": text } } }
            }
        },
        "ParereInterno": {
            "type": "object",
            "required": ["pratica", "oggetto", "seq", "ufficio", "ufficio_richiedente", "testo", "richiesto_il", "scadenza", "scaduto", "esito", "risposta", "reso_il", "documento"],
            "properties": {
                "pratica": int, "oggetto": text, "seq": int, "ufficio": int, "ufficio_richiedente": int, "testo": text,
                "richiesto_il": date, "scadenza": date, "scaduto": boolean,
                "esito": { "type": ["string", "null"], "enum": ["favorevole", "favorevole_con_prescrizioni", "contrario", null] },
                "risposta": opt_text, "reso_il": opt_date,
                "documento": { "type": ["string", "null"], "description": "Dove l'ufficio scarica il documento allegato alla risposta, se c'è" }
            }
        },
        "Assegnazione": {
            "type": "object", "additionalProperties": false, "required": ["responsabile", "stato_atteso"],
            "properties": {
                "responsabile": { "type": "integer", "description": "Id dell'utente, componente dell'ufficio competente" },
                "stato_atteso": text
            }
        },
        "Trasferimento": {
            "type": "object", "additionalProperties": false, "required": ["ufficio", "motivo", "stato_atteso"],
            "properties": { "ufficio": { "type": "string", "description": "Slug dell'ufficio competente" }, "motivo": text, "stato_atteso": text }
        },
        "RichiestaParere": {
            "type": "object", "additionalProperties": false, "required": ["ufficio", "testo"],
            "properties": {
                "ufficio": { "type": "string", "description": "Slug dell'ufficio a cui si chiede il parere" },
                "testo": text,
                "giorni": { "type": ["integer", "null"], "minimum": 1, "maximum": 90, "description": "Giorni per rispondere (predefinito 20, art. 16 c.1 L. 241/1990)" }
            }
        },
        "RispostaParere": {
            "type": "object", "additionalProperties": false, "required": ["esito", "testo"],
            "properties": { "esito": { "type": "string", "enum": ["favorevole", "favorevole_con_prescrizioni", "contrario"] }, "testo": text }
        },
        "Messaggio": {
            "type": "object", "additionalProperties": false, "required": ["testo"],
            "properties": { "testo": text, "pubblico": { "type": ["boolean", "null"], "description": "Solo per l'ufficio: false per una nota interna che il richiedente non vede (predefinito true)" } }
        },
        "Azione": {
            "type": "object", "additionalProperties": false, "required": ["azione", "stato_atteso"],
            "properties": {
                "azione": { "type": "string", "description": "Codice dell'azione (presa_in_carico, richiesta_integrazione, accoglimento, rigetto, ritiro, …)" },
                "stato_atteso": { "type": "string", "description": "Lo stato visto da chi agisce: se è cambiato, 409" },
                "nota": opt_text
            }
        }
    });
    let (card_paths, card_schemas) = card_parts(&text, &opt_text);
    let mut paths = paths.as_object().cloned().unwrap_or_default();
    paths.extend(card_paths);
    let mut schemas = schemas.as_object().cloned().unwrap_or_default();
    schemas.extend(card_schemas);
    (paths, schemas)
}

/// The cards of the catalogue (`/schede-servizio`), for administrators.
fn card_parts(text: &Value, opt_text: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let paths = json!({
        "/schede-servizio": {
            "post": with(staff(json!({
                "operationId": "creaSchedaServizio",
                "summary": "Amministrazione: una nuova scheda del catalogo dei servizi (modello Comuni, C.SI.1.3), pubblicata sul portale; l'ufficio responsabile è indicato per identificativo",
                "requestBody": body("SchedaServizio"),
                "responses": {
                    "201": ok_json("La scheda salvata", schema("SchedaServizio")),
                    "422": error_response("invalid_fields, slug_format, service_slug_taken, service_office_required, service_office_unknown, service_title_required, service_title_length, service_summary_length, service_status_reason_required, service_online_url_format, service_online_url_length, service_topics_required, service_topic_unknown, service_topic_duplicate e gli altri campi obbligatori (service_…_required); il messaggio elenca ogni problema, l'ufficio compreso")
                }
            })), json_errors())
        },
        "/schede-servizio/{slug}": {
            "get": staff(json!({
                "operationId": "getSchedaServizio",
                "summary": "Amministrazione: una scheda del catalogo nel formato del file dell'ente; l'intestazione ETag ne porta la versione",
                "parameters": [slug()],
                "responses": {
                    "200": ok_json("La scheda", schema("SchedaServizio")),
                    "404": error_response("Scheda inesistente")
                }
            })),
            "post": with(staff(json!({
                "operationId": "modificaSchedaServizio",
                "summary": "Amministrazione: sostituisce una scheda del catalogo (l'identificativo non cambia); una scheda invariata non scrive nulla",
                "parameters": [slug(), {
                    "name": "If-Match", "in": "header", "required": false,
                    "description": "L'ETag letto: la scheda è salvata solo se nessuno l'ha modificata nel frattempo",
                    "schema": { "type": "string" }
                }],
                "requestBody": body("SchedaServizio"),
                "responses": {
                    "200": ok_json("La scheda salvata", schema("SchedaServizio")),
                    "404": error_response("Scheda inesistente"),
                    "422": error_response("service_slug_immutable, service_card_changed (If-Match non corrisponde più) e i codici della creazione; il messaggio elenca ogni problema")
                }
            })), json_errors())
        }
    });
    let schemas = json!({
        "SchedaServizio": {
            "type": "object",
            "description": "Una scheda del catalogo (C.SI.1.3), come le voci `servizi` del file dell'ente (docs/ente-file.md)",
            "required": ["ufficio", "slug", "category", "title", "status", "summary", "audience", "how_to", "needed", "achieved", "times", "access", "conditions", "topics", "service_type", "audience_type"],
            "properties": {
                "ufficio": text, "slug": text, "category": text, "title": text,
                "status": {
                    "type": "object", "required": ["state"],
                    "properties": { "state": { "enum": ["active", "inactive"] }, "reason": text }
                },
                "summary": text, "audience": text, "how_to": text, "needed": text, "achieved": text,
                "times": text, "costs": opt_text, "access": text, "online_url": opt_text,
                "conditions": text, "topics": { "type": "array", "items": text },
                "service_type": text, "audience_type": text
            }
        }
    });
    (
        paths.as_object().cloned().unwrap_or_default(),
        schemas.as_object().cloned().unwrap_or_default(),
    )
}

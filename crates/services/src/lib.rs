//! Palazzo use cases. One public function is one business action: it parses
//! nothing (callers hand it domain types), authorizes, runs one store
//! transaction and appends the ledger events of what it changed.

pub mod access;
pub mod admins;
pub mod anagrafe;
pub mod api_tokens;
pub mod appuntamenti;
pub mod area_personale;
pub mod avvisi;
pub mod canone;
pub mod certificati;
pub mod classificazione;
pub mod config;
pub mod db;
pub mod demo;
pub mod documents;
pub mod emergenza;
pub mod eml;
pub mod error;
pub mod fascicoli;
pub mod federation;
mod group_commit;
pub mod handoffs;
pub mod import;
pub mod keys;
pub mod ledger;
pub mod mail;
pub mod metadati;
pub mod pagopa;
pub mod passwords;
pub mod portal;
pub mod pratiche;
pub mod protocollo;
pub mod protocollo_import;
pub mod ratings;
pub mod receipt;
pub mod registro_giornaliero;
pub mod rilascio;
pub mod segnatura;
pub mod sigillo;
pub mod signatures;
pub mod staff_oidc;
pub mod tari;
pub mod tenants;
pub mod tributi;
pub mod tsa;
pub mod verifica;
pub mod verify;
pub mod versioni;

pub use error::{ServiceError, ServiceResult};
pub use portal::PortalSnapshot;

use std::sync::Arc;

/// The application: store, keys and caches. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    db: db::Db,
    keys: keys::KeyStore,
    portal: portal::Cache,
    checkpointer: ledger::Checkpointer,
    ratings: ratings::Limiter,
    sign_in_limiter: ratings::Window,
    documents: documents::DocumentStore,
    /// The certificate templates, built once per comune and type.
    certificate_templates: certificati::Templates,
    /// Signed certificate status lists, served for a few minutes.
    status_lists: rilascio::StatusListCache,
    /// The time-stamp authority of the registro giornaliero, if configured.
    tsa: std::sync::RwLock<Option<tsa::TsaClient>>,
    /// pagoPA's GPD (`[gpd]`), if configured.
    gpd: std::sync::RwLock<Option<pagopa::gpd::GpdClient>>,
    /// Registrations waiting to be committed together.
    group: group_commit::GroupCommit,
    /// The mail transport (`[mail]`), if configured.
    mail: std::sync::RwLock<Option<Arc<mail::Mailer>>>,
    /// Wakes the mail worker.
    mail_wake: tokio::sync::Notify,
    /// Counters of the mail worker, for `/metrics`.
    mail_counters: mail::Counters,
    /// The current titolario of each ente (versions never change, so an
    /// entry is good as long as its version is the newest).
    titolari: std::sync::RwLock<
        std::collections::HashMap<palazzo_store::TenantId, Arc<palazzo_store::TitolarioVersion>>,
    >,
}

impl App {
    /// Builds the application over an opened store and a key directory.
    /// Loads the tenants into memory.
    pub async fn new(db: db::Db, keys: keys::KeyStore) -> ServiceResult<Self> {
        // Documents live beside the keys, in the installation's data
        // directory: `<data_dir>/documents`.
        let data_dir = keys
            .dir()
            .parent()
            .map_or_else(|| keys.dir().to_path_buf(), std::path::Path::to_path_buf);
        let documents = documents::DocumentStore::new(data_dir.join("documents"));
        let app = App {
            inner: Arc::new(Inner {
                db,
                keys,
                portal: portal::Cache::default(),
                checkpointer: ledger::Checkpointer::default(),
                ratings: ratings::Limiter::default(),
                sign_in_limiter: ratings::Window::new(ratings::MAX_CLIENT_KEYS),
                documents,
                certificate_templates: certificati::Templates::default(),
                status_lists: rilascio::StatusListCache::default(),
                tsa: std::sync::RwLock::new(None),
                gpd: std::sync::RwLock::new(None),
                group: group_commit::GroupCommit::default(),
                mail: std::sync::RwLock::new(None),
                mail_wake: tokio::sync::Notify::new(),
                mail_counters: mail::Counters::default(),
                titolari: std::sync::RwLock::default(),
            }),
        };
        app.reload_tenants().await?;
        Ok(app)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The store.
    pub fn db(&self) -> &db::Db {
        &self.inner.db
    }

    /// The document store (content-addressed originals).
    pub fn documents(&self) -> &documents::DocumentStore {
        &self.inner.documents
    }

    /// The key store.
    pub fn keys(&self) -> &keys::KeyStore {
        &self.inner.keys
    }
}

//! The error of the services layer: a stable code, an Italian message, and
//! the kind the web layer maps to an HTTP status.

use palazzo_domain::Coded;
use palazzo_store::StoreError;

/// What went wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is not acceptable; `code` is stable, `message` is Italian.
    #[error("{code}: {message}")]
    Invalid {
        /// Stable machine code.
        code: &'static str,
        /// Italian message for the user.
        message: String,
    },
    /// The thing asked for does not exist for this tenant.
    #[error("not found")]
    NotFound,
    /// The action needs a signed-in user.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The signed-in user may not do this.
    #[error("forbidden")]
    Forbidden,
    /// Too many requests from this client; try later.
    #[error("rate limited")]
    RateLimited,
    /// A national service Palazzo depends on (pagoPA's GPD, …) does not
    /// answer now: nothing was changed, try again later (503).
    #[error("{code}: unavailable: {detail}")]
    Unavailable {
        /// Stable machine code, e.g. `gpd_unavailable`.
        code: &'static str,
        /// Italian message for the user.
        message: String,
        /// What happened, for the log only.
        detail: String,
    },
    /// A storage failure; details go to the log, never to the user.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Any other internal failure; details go to the log, never to the user.
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError {
    /// Builds an [`ServiceError::Invalid`] from any coded domain error.
    pub fn invalid(e: &impl Coded) -> Self {
        ServiceError::Invalid {
            code: e.code(),
            message: e.message_it(),
        }
    }

    /// An [`ServiceError::Invalid`] with its code and Italian message.
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Invalid { code, .. } => code,
            ServiceError::NotFound => "not_found",
            ServiceError::RateLimited => "rate_limited",
            ServiceError::Unavailable { code, .. } => code,
            ServiceError::Unauthenticated => "unauthenticated",
            ServiceError::Forbidden => "forbidden",
            ServiceError::Store(StoreError::NotFound) => "not_found",
            ServiceError::Store(StoreError::Conflict(_)) => "conflict",
            ServiceError::Store(_) | ServiceError::Internal(_) => "internal_error",
        }
    }

    /// The Italian message for the user (never internal details).
    pub fn message_it(&self) -> String {
        match self {
            ServiceError::Invalid { message, .. } | ServiceError::Unavailable { message, .. } => {
                message.clone()
            }
            ServiceError::NotFound | ServiceError::Store(StoreError::NotFound) => {
                "La risorsa richiesta non esiste.".to_owned()
            }
            ServiceError::Unauthenticated => "Per continuare devi accedere.".to_owned(),
            ServiceError::Forbidden => "Non hai i permessi per questa operazione.".to_owned(),
            ServiceError::RateLimited => {
                "Hai inviato troppe richieste in poco tempo. Riprova tra qualche minuto.".to_owned()
            }
            ServiceError::Store(StoreError::Conflict(_)) => {
                "Esiste già un elemento con questi dati.".to_owned()
            }
            ServiceError::Store(_) | ServiceError::Internal(_) => {
                "Si è verificato un errore interno. Riprova più tardi.".to_owned()
            }
        }
    }
}

/// `Result` with [`ServiceError`].
pub type ServiceResult<T> = Result<T, ServiceError>;

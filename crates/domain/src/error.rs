//! The error contract shared by every domain type.

/// An error that users and machines can both read: a stable snake_case
/// `code` (part of the API contract, never renamed) and a clear Italian
/// message for the person who typed the value.
pub trait Coded {
    /// Stable machine-readable code, e.g. `codice_fiscale_check_character`.
    fn code(&self) -> &'static str;
    /// Italian message for the user, e.g. "Il carattere di controllo del codice fiscale non è corretto".
    fn message_it(&self) -> String;
}

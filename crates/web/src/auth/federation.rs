//! (stub) federation sign-in routes.

use crate::routes::Routes;

/// The routes of this module.
pub fn router() -> Routes {
    Routes::new()
}

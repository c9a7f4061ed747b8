//! The middleware stack, one concern per file. The order is set in
//! [`crate::router_with_state`].

pub mod errors;
pub mod logging;
pub mod metrics;
pub mod origin;
pub mod request_id;
pub mod security_headers;
pub mod tenant;

//! The HTTP layer: the client, sending a request and sorting the answer (accepted,
//! failed with its body read, redirect, wrong content type), transport failures as
//! errors, error bodies in every shape, and `Retry-After`.
//!
//! One file per job: `client.rs`, `endpoint.rs` (send), `transport.rs`,
//! `error_response.rs`, `retry_after.rs`.

mod client;
mod endpoint;
mod error_response;
mod headers;
mod transport;

pub(crate) use client::{is_loopback, Clients, DEFAULT_CONNECT_TIMEOUT};
pub(crate) use endpoint::{Accepted, Endpoint, Sent};
pub(crate) use error_response::{advice_for, ErrorBody};
pub use error_response::{kind_for_status, ErrorResponse};
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) use headers::media_type;
pub(crate) use headers::parse_retry_after;

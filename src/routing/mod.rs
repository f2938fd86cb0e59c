//! Beyond one provider: a [`FallbackProvider`] chain (`fallback.rs`), and how a reply
//! was routed through one ([`Route`], [`Attempt`]). Endpoint pools are a setting of each
//! HTTP provider (`endpoints` on the builders).

mod fallback;

pub use crate::route::{Attempt, Route};
pub use fallback::{FallbackProvider, FallbackProviderBuilder, DEFAULT_FALLBACK_KINDS};

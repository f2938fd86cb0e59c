//! How a reply was routed: the provider and model of a fallback chain that answered
//! ([`Route`]), and the attempts that failed before it ([`Attempt`]).

use crate::pricing::Pricing;

pub use crate::error::Attempt;

/// Which entry of a fallback chain answered, how it prices the reply, and the attempts
/// that failed before it; carried by the finish so that the reply's provider, model,
/// usage and cost are those of the entry that answered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Route {
    /// The provider that answered.
    pub provider: String,
    /// The model asked of it.
    pub model: String,
    /// How it prices the model.
    pub pricing: Pricing,
    /// The entries that failed first, in order.
    pub attempts: Vec<Attempt>,
}

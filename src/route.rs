//! How a reply was routed: the provider and model of a fallback chain that answered
//! ([`Route`]), and the attempts that failed before it ([`Attempt`]).

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::error::ErrorKind;
use crate::pricing::Pricing;

/// An entry of a fallback chain that failed before the one that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// The provider's name.
    pub provider: String,
    /// The model asked of it.
    pub model: String,
    /// What kind of failure it was.
    pub kind: ErrorKind,
    /// The error's message (secrets already scrubbed by the provider).
    pub message: String,
}

impl Attempt {
    /// A failed attempt on `provider` with `model`.
    pub fn new(
        provider: impl Into<String>,
        model: impl Into<String>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Attempt {
        Attempt {
            provider: provider.into(),
            model: model.into(),
            kind,
            message: message.into(),
        }
    }
}

/// `{"provider", "model", "error": {"kind", "message"}}`, as `hello_llm --json` prints it.
impl Serialize for Attempt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Failure<'a> {
            kind: ErrorKind,
            message: &'a str,
        }
        let mut s = serializer.serialize_struct("Attempt", 3)?;
        s.serialize_field("provider", &self.provider)?;
        s.serialize_field("model", &self.model)?;
        s.serialize_field(
            "error",
            &Failure {
                kind: self.kind,
                message: &self.message,
            },
        )?;
        s.end()
    }
}

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

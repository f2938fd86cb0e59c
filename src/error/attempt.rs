//! [`Attempt`]: an entry of a fallback chain that failed, and why.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::ErrorKind;

/// An entry of a fallback chain that failed: on a reply, one that failed before the
/// entry that answered; on an error, every entry tried.
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

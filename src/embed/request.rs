//! [`EmbedRequest`]: what to embed, with which model, in how many dimensions; and what
//! is checked before anything is sent.

use crate::error::{Error, ErrorKind, Result};
use crate::request::Timeouts;

use super::MAX_DIMENSIONS;

/// Texts to embed: one or more inputs, a model (the provider's default embedding model
/// when none), and optionally the length of the vectors (for models that can shorten
/// them: OpenAI's `text-embedding-3-*`, Gemini's).
///
/// ```
/// use theory_llm::embed::EmbedRequest;
///
/// let request = EmbedRequest::new(["first", "second"])
///     .model("text-embedding-3-small")
///     .dimensions(256);
/// assert_eq!(request.inputs.len(), 2);
/// let one: EmbedRequest = "just this".into();
/// assert_eq!(one.inputs, ["just this"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmbedRequest {
    /// The texts, in the order their vectors come back.
    pub inputs: Vec<String>,
    /// The model; `None`: the provider's default embedding model.
    pub model: Option<String>,
    /// The length of each vector, for models that can shorten theirs; `None`: the
    /// model's own. A server that returns another length is a `protocol` error.
    pub dimensions: Option<u32>,
    /// Time limits for this request, over the provider's: `first_chunk` for each batch's
    /// whole reply, `idle` between the pieces of a reply, `deadline` for all batches.
    pub timeouts: Timeouts,
    /// Retries of each batch, instead of the provider's.
    pub max_retries: Option<u32>,
}

impl EmbedRequest {
    /// A request to embed `inputs`.
    pub fn new<S: Into<String>>(inputs: impl IntoIterator<Item = S>) -> EmbedRequest {
        EmbedRequest {
            inputs: inputs.into_iter().map(Into::into).collect(),
            ..EmbedRequest::default()
        }
    }

    /// Sets the model.
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> EmbedRequest {
        self.model = Some(model.into());
        self
    }

    /// Sets the length of the vectors (from 1 to [`MAX_DIMENSIONS`]).
    #[must_use]
    pub fn dimensions(mut self, dimensions: u32) -> EmbedRequest {
        self.dimensions = Some(dimensions);
        self
    }

    /// Sets the time limits (see [`timeouts`](Self::timeouts)).
    #[must_use]
    pub fn timeouts(mut self, timeouts: Timeouts) -> EmbedRequest {
        self.timeouts = timeouts;
        self
    }

    /// Sets the retries of each batch.
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> EmbedRequest {
        self.max_retries = Some(retries);
        self
    }

    /// The model to ask for: the request's (trimmed), else `default`.
    pub(crate) fn model_or<'a>(&'a self, default: &'a str) -> &'a str {
        match self.model.as_deref().map(str::trim) {
            Some(model) if !model.is_empty() => model,
            _ => default,
        }
    }

    /// Checks what no API accepts, before anything is sent.
    ///
    /// # Errors
    /// `invalid_request` naming what is wrong.
    pub(crate) fn validate(&self, provider: &str) -> Result<()> {
        let invalid = |detail: String| Err(Error::new(ErrorKind::InvalidRequest, detail));
        if self.inputs.is_empty() {
            return invalid(format!(
                "{provider}: nothing to embed: give at least one input"
            ));
        }
        if let Some(at) = self.inputs.iter().position(|t| t.trim().is_empty()) {
            return invalid(format!(
                "{provider}: input {at} is empty; embedding APIs refuse empty inputs, so leave it out"
            ));
        }
        match self.dimensions {
            Some(0) => invalid(format!(
                "{provider}: dimensions must be at least 1 (or left unset for the model's own)"
            )),
            Some(n) if n as usize > MAX_DIMENSIONS => invalid(format!(
                "{provider}: {n} dimensions is more than the {MAX_DIMENSIONS} this crate accepts"
            )),
            _ => Ok(()),
        }
    }
}

impl From<&str> for EmbedRequest {
    fn from(input: &str) -> EmbedRequest {
        EmbedRequest::new([input])
    }
}

impl From<String> for EmbedRequest {
    fn from(input: String) -> EmbedRequest {
        EmbedRequest::new([input])
    }
}

impl From<Vec<String>> for EmbedRequest {
    fn from(inputs: Vec<String>) -> EmbedRequest {
        EmbedRequest::new(inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_no_api_accepts_is_refused_before_sending() {
        let kind = |r: EmbedRequest| r.validate("p").unwrap_err().kind();
        assert_eq!(kind(EmbedRequest::default()), ErrorKind::InvalidRequest);
        let err = EmbedRequest::new(["a", " \n", "c"])
            .validate("p")
            .unwrap_err();
        assert!(err.message().contains("input 1 is empty"), "{err}");
        assert_eq!(
            kind(EmbedRequest::from("a").dimensions(0)),
            ErrorKind::InvalidRequest
        );
        assert_eq!(
            kind(EmbedRequest::from("a").dimensions(MAX_DIMENSIONS as u32 + 1)),
            ErrorKind::InvalidRequest
        );
        EmbedRequest::from("a")
            .dimensions(MAX_DIMENSIONS as u32)
            .validate("p")
            .unwrap();
    }

    #[test]
    fn the_model_is_the_requests_unless_blank() {
        assert_eq!(EmbedRequest::from("a").model_or("d"), "d");
        assert_eq!(EmbedRequest::from("a").model(" ").model_or("d"), "d");
        assert_eq!(EmbedRequest::from("a").model(" m ").model_or("d"), "m");
    }
}

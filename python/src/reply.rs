//! `LLMReply`: a whole reply (the crate's `ChatReply`, and its parsed JSON for
//! structured output), or what had arrived before a failure (`PartialReply`), read
//! from Python.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde::Serialize;
use serde_json::Value;

use crate::convert::to_python;
use crate::core::{ChatReply, ChatStream, PartialReply};

/// Which provider and model a request went to: what a partial reply is from.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) provider: String,
    pub(crate) model: String,
}

impl Origin {
    pub(crate) fn of(stream: &ChatStream) -> Origin {
        Origin {
            provider: stream.info().provider().to_owned(),
            model: stream.info().model().to_owned(),
        }
    }
}

/// What an `LLMReply` holds.
pub(crate) enum ReplyData {
    /// A whole reply; `json` is `Some` when structured output was asked for (the
    /// parsed reply).
    Whole {
        reply: Box<ChatReply>,
        json: Option<Value>,
    },
    /// What had arrived when the reply failed.
    Partial {
        partial: Box<PartialReply>,
        origin: Origin,
    },
}

/// The object `hello_llm --json` prints for a reply: the reply's fields in their
/// order, then `"json"` for structured output.
#[derive(Serialize)]
pub(crate) struct JsonReply<'a> {
    #[serde(flatten)]
    reply: &'a ChatReply,
    #[serde(skip_serializing_if = "Option::is_none")]
    json: Option<&'a Value>,
}

/// What `to_dict` gives and `python -m theory_llm --json` prints: a whole reply as
/// `hello_llm --json` prints it; a partial one as the `"partial"` object of its error.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum ReplyObject<'a> {
    Whole(JsonReply<'a>),
    Partial(&'a PartialReply),
}

impl ReplyData {
    pub(crate) fn object(&self) -> ReplyObject<'_> {
        match self {
            ReplyData::Whole { reply, json } => ReplyObject::Whole(JsonReply {
                reply,
                json: json.as_ref(),
            }),
            ReplyData::Partial { partial, .. } => ReplyObject::Partial(partial),
        }
    }
}

/// The finish reason of a partial reply: it ended with an error.
const PARTIAL_FINISH: &str = "error";

/// A reply: its text, the provider and model, why it finished, usage and cost, tool
/// calls, and the parsed JSON for structured output.
#[pyclass(frozen, module = "theory_llm", name = "LLMReply")]
pub(crate) struct LLMReply {
    data: ReplyData,
}

impl LLMReply {
    pub(crate) fn new(data: ReplyData) -> LLMReply {
        LLMReply { data }
    }

    fn text_ref(&self) -> &str {
        match &self.data {
            ReplyData::Whole { reply, .. } => &reply.text,
            ReplyData::Partial { partial, .. } => &partial.text,
        }
    }

    fn provider_ref(&self) -> &str {
        match &self.data {
            ReplyData::Whole { reply, .. } => &reply.provider,
            ReplyData::Partial { origin, .. } => &origin.provider,
        }
    }

    fn model_ref(&self) -> &str {
        match &self.data {
            ReplyData::Whole { reply, .. } => &reply.model,
            ReplyData::Partial { origin, .. } => &origin.model,
        }
    }

    fn finish_reason_ref(&self) -> &str {
        match &self.data {
            ReplyData::Whole { reply, .. } => reply.finish_reason.as_str(),
            ReplyData::Partial { .. } => PARTIAL_FINISH,
        }
    }
}

#[pymethods]
impl LLMReply {
    /// The reply text.
    #[getter]
    fn text<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        PyString::new(py, self.text_ref())
    }

    /// The provider's name.
    #[getter]
    fn provider(&self) -> &str {
        self.provider_ref()
    }

    /// The model that answered.
    #[getter]
    fn model(&self) -> &str {
        self.model_ref()
    }

    /// Why generation stopped: `"stop"`, `"length"`, `"tool_calls"`,
    /// `"content_filter"`, `"refusal"`, `"cancelled"` (the reader stopped early), the
    /// server's own word, or `"error"` for the partial reply of a failure.
    #[getter]
    fn finish_reason(&self) -> &str {
        self.finish_reason_ref()
    }

    /// Tokens, time and cost: `tokens_in`, `tokens_out`, `latency_ms` (float),
    /// `usd_micros` (int), `ttft_ms`, `waited_ms` (float: the wait for a budget),
    /// `cached_tokens_in`, `cache_write_tokens_in`,
    /// `reasoning_tokens_out` (None when not reported), `tokens_estimated`,
    /// `cost_basis`.
    #[getter]
    fn usage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.data {
            ReplyData::Whole { reply, .. } => to_python(py, &reply.usage),
            ReplyData::Partial { partial, .. } => to_python(py, &partial.usage),
        }
    }

    /// The tool calls the model made: `{"id", "name", "arguments"}` each.
    #[getter]
    fn tool_calls<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.data {
            ReplyData::Whole { reply, .. } => to_python(py, &reply.tool_calls),
            ReplyData::Partial { partial, .. } => to_python(py, &partial.tool_calls),
        }
    }

    /// The parsed reply when structured output was asked for (`json_schema=` or
    /// `json_object=True`), else None.
    #[getter]
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.data {
            ReplyData::Whole {
                json: Some(json), ..
            } => to_python(py, json),
            _ => Ok(py.None().into_bound(py)),
        }
    }

    /// The model's reasoning, if it sent any ("" otherwise).
    #[getter]
    fn reasoning(&self) -> &str {
        match &self.data {
            ReplyData::Whole { reply, .. } => &reply.reasoning,
            ReplyData::Partial { partial, .. } => &partial.reasoning,
        }
    }

    /// The model's refusal, if it declined to answer ("" otherwise).
    #[getter]
    fn refusal(&self) -> &str {
        match &self.data {
            ReplyData::Whole { reply, .. } => &reply.refusal,
            ReplyData::Partial { partial, .. } => &partial.refusal,
        }
    }

    /// The provider's id of the reply, when it sent one.
    #[getter]
    fn response_id(&self) -> Option<&str> {
        match &self.data {
            ReplyData::Whole { reply, .. } => reply.response_id.as_deref(),
            ReplyData::Partial { .. } => None,
        }
    }

    /// The same object as `hello_llm --json` prints: for a whole reply, the reply
    /// (with `"json"` for structured output); for a partial one, the `"partial"`
    /// object of its error.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        Ok(to_python(py, &self.data.object())?.cast_into::<PyDict>()?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let repr = |s: &str| PyString::new(py, s).repr().map(|r| r.to_string());
        Ok(format!(
            "LLMReply(text={}, provider={}, model={}, finish_reason={}, usage={})",
            repr(self.text_ref())?,
            repr(self.provider_ref())?,
            repr(self.model_ref())?,
            repr(self.finish_reason_ref())?,
            self.usage(py)?.repr()?
        ))
    }
}

//! The JSON of `/api/chat` on the wire. Lenient: every field optional, unknown fields
//! (`tool_calls`, `images`, `created_at`, `logprobs`, …) ignored, `null` taken as
//! missing, and text borrowed from the line when it has no escapes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient::Reported;
use crate::request::ChatRequest;

/// The body of `POST /api/chat`.
#[derive(Debug, Serialize)]
pub(crate) struct Chat<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<Message<'a>>,
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) options: Option<Options<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) keep_alive: Option<&'a Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    pub(crate) role: &'static str,
    pub(crate) content: &'a str,
}

/// `options`: the request's settings, plus the provider's extra entries for keys
/// the request does not set.
#[derive(Debug, Serialize)]
pub(crate) struct Options<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) num_predict: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stop: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    #[serde(flatten)]
    pub(crate) extra: BTreeMap<&'a str, &'a Value>,
}

impl<'a> Chat<'a> {
    pub(crate) fn new(
        request: &'a ChatRequest,
        model: &'a str,
        keep_alive: Option<&'a Value>,
        defaults: &'a BTreeMap<String, Value>,
    ) -> Chat<'a> {
        let stop = (!request.stop.is_empty()).then_some(request.stop.as_slice());
        let set_by_request = |key: &str| match key {
            "temperature" => request.temperature.is_some(),
            "num_predict" => request.max_tokens.is_some(),
            "stop" => stop.is_some(),
            "seed" => request.seed.is_some(),
            _ => false,
        };
        let options = Options {
            temperature: request.temperature,
            num_predict: request.max_tokens,
            stop,
            seed: request.seed,
            extra: defaults
                .iter()
                .filter(|(k, _)| !set_by_request(k))
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
        };
        let empty = options.temperature.is_none()
            && options.num_predict.is_none()
            && options.stop.is_none()
            && options.seed.is_none()
            && options.extra.is_empty();
        Chat {
            model,
            messages: request
                .full_conversation()
                .map(|(role, content)| Message {
                    role: role.as_str(),
                    content,
                })
                .collect(),
            stream: true,
            options: (!empty).then_some(options),
            keep_alive,
        }
    }
}

/// One line of a streamed `/api/chat` reply.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct Line<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub(crate) model: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) message: Option<LineMessage<'a>>,
    pub(crate) done: Option<bool>,
    #[serde(borrow, deserialize_with = "text")]
    pub(crate) done_reason: Cow<'a, str>,
    /// A string from Ollama; any shape is tolerated. (Boxed, like everything that
    /// only the last or a failing line has: a smaller struct is measurably faster to
    /// read for every token line.)
    pub(crate) error: Option<Box<Value>>,
    /// The final line's metrics, read from that line alone by `LineDecoder::frame`.
    /// (Not a flattened struct: flattening would buffer every unknown field of
    /// every line.)
    #[serde(skip)]
    pub(crate) metrics: Option<Box<Metrics>>,
}

/// The final line's metrics: counts, and durations in nanoseconds. Ollama omits the
/// ones that are zero.
#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct Metrics {
    pub(crate) total_duration: Reported,
    pub(crate) load_duration: Reported,
    pub(crate) prompt_eval_count: Reported,
    pub(crate) prompt_eval_duration: Reported,
    pub(crate) eval_count: Reported,
    pub(crate) eval_duration: Reported,
}

impl Line<'_> {
    /// Whether this is an `/api/chat` line: a message, `done`, an error or a model.
    pub(crate) fn is_recognized(&self) -> bool {
        self.message.is_some()
            || self.done.is_some()
            || self.error.is_some()
            || !self.model.is_empty()
    }
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct LineMessage<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub(crate) content: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub(crate) thinking: Cow<'a, str>,
}

/// A string, borrowed when it has no escapes; `null` is empty.
fn text<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Cow<'a, str>, D::Error> {
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(""))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(""))
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }
    d.deserialize_option(Text)
}

//! The JSON of an `/api/chat` reply. Lenient: every field optional, unknown fields
//! (`images`, `created_at`, `logprobs`, …) ignored, `null` taken as missing, and text
//! borrowed from the line when it has no escapes. (The request is in `request.rs`.)

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::lenient::Reported;

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

impl<'a> Line<'a> {
    /// Whether this is an `/api/chat` line: a message, `done`, an error or a model.
    pub(crate) fn is_recognized(&self) -> bool {
        self.message.is_some()
            || self.done.is_some()
            || self.error.is_some()
            || !self.model.is_empty()
    }

    /// The text of a token line that has nothing but text, borrowed from the line (no
    /// escapes in it): a line whose shape the next ones may repeat.
    pub(crate) fn plain_text(&self) -> Option<&'a str> {
        let message = self.message.as_ref()?;
        let plain =
            message.thinking.is_empty() && message.tool_calls.is_none() && self.done != Some(true);
        match &message.content {
            Cow::Borrowed(content) if plain => Some(content),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct LineMessage<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub(crate) content: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub(crate) thinking: Cow<'a, str>,
    /// Whole calls (Ollama never sends them in pieces), read by the mapper:
    /// `[{"id"?, "function": {"index"?, "name", "arguments": {…}}}]`. Kept as JSON so that
    /// an odd shape costs the calls, not the line; boxed, as only a few lines have them.
    pub(crate) tool_calls: Option<Box<Value>>,
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

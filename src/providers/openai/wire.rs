//! The JSON of a Chat Completions reply. Lenient: every field optional, unknown fields
//! ignored, and text borrowed from the frame when it has no escapes. (The request is
//! in `request.rs`.)

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use crate::lenient::Reported;

impl<'a> Event<'a> {
    /// The event as the fast path reads it, when that is all it is (the reference the
    /// fast path is tested against): no usage, error,
    /// timings, finish, refusal, reasoning or tool call, at most one choice.
    #[cfg(any(test, feature = "test-hooks"))]
    pub(crate) fn as_token(&self) -> Option<super::fast::Token<'a>> {
        if self.usage.is_some() || self.error.is_some() || self.timings.is_some() {
            return None;
        }
        if !self.choices.more.is_empty() {
            return None;
        }
        let content = match &self.choices.first {
            None => None,
            Some(choice) if choice.finish_reason.is_some() => return None,
            Some(choice) => match &choice.delta {
                None => None,
                Some(d) => {
                    let more = d.refusal.is_some()
                        || d.reasoning.is_some()
                        || d.reasoning_content.is_some()
                        || d.tool_calls.is_some()
                        || d.function_call.is_some();
                    if more {
                        return None;
                    }
                    d.content.clone()
                }
            },
        };
        Some(super::fast::Token {
            id: self.id.clone(),
            model: self.model.clone(),
            content,
            choices: self.choices.seen,
        })
    }

    /// Whether this is what a chat completion stream is made of: choices, usage, an
    /// error, or at least a model name.
    pub(crate) fn is_recognized(&self) -> bool {
        self.choices.first.is_some()
            || self.choices.seen
            || self.usage.is_some()
            || self.error.is_some()
            || self.model.is_some()
    }
}

/// One `data:` event: a `chat.completion.chunk`, a usage-only chunk, an error, or
/// (from a server that ignored `stream: true`) a whole `chat.completion`. What only
/// a few events carry is boxed: a smaller struct is measurably faster to read.
#[derive(Debug, Deserialize)]
pub(crate) struct Event<'a> {
    #[serde(default, borrow)]
    pub(crate) choices: Choices<'a>,
    #[serde(default)]
    pub(crate) usage: Option<Box<Usage>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) model: Option<Cow<'a, str>>,
    /// The completion's id (`chatcmpl-…`), repeated on every chunk.
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) error: Option<Box<serde_json::Value>>,
    /// llama.cpp's server timings.
    #[serde(default)]
    pub(crate) timings: Option<Box<Timings>>,
}

/// The choices of the reply (`choices[i]` with `index` 0, or no index): with `n > 1`
/// the others are other replies, and are dropped as they are read. `null` or a
/// missing list is empty. Reading the usual one choice allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct Choices<'a> {
    first: Option<Choice<'a>>,
    more: Vec<Choice<'a>>,
    /// The event had a `choices` list (maybe empty, as in Azure's first chunk).
    seen: bool,
}

impl<'a> IntoIterator for Choices<'a> {
    type Item = Choice<'a>;
    type IntoIter =
        std::iter::Chain<std::option::IntoIter<Choice<'a>>, std::vec::IntoIter<Choice<'a>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.more)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Choices<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List<'a>(PhantomData<Choice<'a>>);
        impl<'de: 'a, 'a> Visitor<'de> for List<'a> {
            type Value = Choices<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of choices or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Choices::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Choices::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_seq(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut choices = Choices {
                    seen: true,
                    ..Choices::default()
                };
                while let Some(choice) = seq.next_element::<Choice<'a>>()? {
                    if choice.index.value().unwrap_or(0) != 0 {
                        continue;
                    }
                    match choices.first {
                        None => choices.first = Some(choice),
                        Some(_) => choices.more.push(choice),
                    }
                }
                Ok(choices)
            }
        }
        d.deserialize_option(List(PhantomData))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Choice<'a> {
    #[serde(default)]
    pub(crate) index: Reported,
    #[serde(default, borrow, alias = "message")]
    pub(crate) delta: Option<Delta<'a>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Delta<'a> {
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) content: Option<Cow<'a, str>>,
    /// DeepSeek, vLLM.
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) reasoning_content: Option<Cow<'a, str>>,
    /// Groq, OpenRouter.
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) reasoning: Option<Cow<'a, str>>,
    /// Structured output the model declined to give.
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) refusal: Option<Cow<'a, str>>,
    /// Tool call fragments (`null` or `[]` on text chunks).
    #[serde(default, borrow)]
    pub(crate) tool_calls: Option<Vec<ToolCallFragment<'a>>>,
    /// The legacy single function call.
    #[serde(default, borrow)]
    pub(crate) function_call: Option<Box<FunctionFragment<'a>>>,
}

/// A fragment of a tool call: any of its fields may be missing.
#[derive(Debug, Deserialize)]
pub(crate) struct ToolCallFragment<'a> {
    #[serde(default)]
    pub(crate) index: Reported,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) function: Option<FunctionFragment<'a>>,
}

/// A fragment of a function call: its name, and a piece of its arguments.
#[derive(Debug, Deserialize)]
pub(crate) struct FunctionFragment<'a> {
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text_or_json")]
    pub(crate) arguments: Option<Cow<'a, str>>,
}

/// Token counts, by the crate's one rule for counts ([`Reported`]).
#[derive(Debug, Deserialize)]
pub(crate) struct Usage {
    #[serde(default)]
    pub(crate) prompt_tokens: Reported,
    #[serde(default)]
    pub(crate) completion_tokens: Reported,
    /// OpenAI, llama.cpp: `cached_tokens` (prompt cache reads, part of the prompt);
    /// OpenAI: `cache_write_tokens` (cache writes, part of the prompt too).
    #[serde(default)]
    pub(crate) prompt_tokens_details: Option<PromptDetails>,
    /// DeepSeek's name for the cached part of the prompt.
    #[serde(default)]
    pub(crate) prompt_cache_hit_tokens: Reported,
    /// `reasoning_tokens` (part of the completion).
    #[serde(default)]
    pub(crate) completion_tokens_details: Option<CompletionDetails>,
}

impl Usage {
    /// The part of the prompt written to the cache (OpenAI bills it apart).
    pub(crate) fn cache_write_tokens(&self) -> Option<u64> {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cache_write_tokens.value())
    }

    /// The cached part of the prompt, as OpenAI or DeepSeek name it.
    pub(crate) fn cached_tokens(&self) -> Option<u64> {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens.value())
            .or(self.prompt_cache_hit_tokens.value())
    }

    /// The reasoning part of the completion.
    pub(crate) fn reasoning_tokens(&self) -> Option<u64> {
        self.completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens.value())
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PromptDetails {
    #[serde(default)]
    pub(crate) cached_tokens: Reported,
    /// Prompt tokens written to the cache (OpenAI, newer models).
    #[serde(default)]
    pub(crate) cache_write_tokens: Reported,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompletionDetails {
    #[serde(default)]
    pub(crate) reasoning_tokens: Reported,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Timings {
    #[serde(default, deserialize_with = "millis")]
    pub(crate) prompt_ms: Option<f64>,
    #[serde(default, deserialize_with = "millis")]
    pub(crate) predicted_ms: Option<f64>,
}

/// A number read leniently: an integer, a float (`12.0`, rounded), or a numeric
/// string; anything else (a negative number, `true`, an object) is `None` rather
/// than a failed reply, since a count is never worth losing the text over.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    struct Number;
    impl<'de> Visitor<'de> for Number {
        type Value = Option<f64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
    }
    d.deserialize_option(Number)
}

/// A duration in milliseconds, leniently (see [`number`]).
fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(number(d)?.filter(|n| n.is_finite() && *n >= 0.0))
}

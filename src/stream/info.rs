//! [`StreamInfo`]: what a stream is. Which provider and model it comes from, how it is
//! priced, and the limits that apply to it.

use crate::pricing::Pricing;
use crate::request::{ChatRequest, Timeouts};

/// What a stream is: which provider and model it comes from, how it is priced, and the
/// limits that apply to it. A provider makes one per request
/// ([`StreamInfo::for_request`]) and gives it to [`ChatStream::new`](crate::ChatStream::new).
///
/// ```
/// use theory_llm::kit::StreamInfo;
/// use theory_llm::ChatRequest;
/// use theory_llm::pricing::Pricing;
///
/// let request = ChatRequest::new("Hello there").model("m-1");
/// let info = StreamInfo::for_request("faq", &request, "m-default").with_pricing(Pricing::Free);
/// assert_eq!((info.provider(), info.model()), ("faq", "m-1"));
/// assert_eq!(info.prompt_tokens_estimate(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    pub(crate) provider: String,
    pub(crate) model: String,
    pub(crate) pricing: Pricing,
    pub(crate) prompt_tokens_estimate: u64,
    pub(crate) max_reply_bytes: usize,
    pub(crate) timeouts: Timeouts,
    /// What the request asked for, for the call's span.
    #[cfg(feature = "tracing")]
    pub(crate) telemetry: Telemetry,
}

/// What the call's span reports about the request (feature `tracing`).
#[cfg(feature = "tracing")]
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Telemetry {
    pub(crate) max_tokens: Option<u32>,
    pub(crate) temperature: Option<f32>,
    /// The request's messages as JSON, when the app opted in to recording content.
    pub(crate) captured_input: Option<std::sync::Arc<str>>,
}

#[cfg(feature = "tracing")]
impl Telemetry {
    fn of(request: &ChatRequest) -> Telemetry {
        let captured_input = super::trace::capture_content().then(|| {
            let messages: Vec<serde_json::Value> = request
                .full_conversation()
                .map(|(role, text)| serde_json::json!({"role": role.as_str(), "content": text}))
                .collect();
            serde_json::Value::from(messages).to_string().into()
        });
        Telemetry {
            max_tokens: request.max_tokens,
            temperature: request.temperature,
            captured_input,
        }
    }
}

/// The largest reply collected by `chat()`, by default.
pub(crate) use crate::origin::DEFAULT_MAX_REPLY_BYTES;

impl StreamInfo {
    /// Info for `model` on `provider`: priced [`Pricing::Unknown`], no time limits, the
    /// default reply cap (64 MiB), until said otherwise.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> StreamInfo {
        StreamInfo {
            provider: provider.into(),
            model: model.into(),
            pricing: Pricing::Unknown,
            prompt_tokens_estimate: 0,
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
            timeouts: Timeouts::default(),
            #[cfg(feature = "tracing")]
            telemetry: Telemetry::default(),
        }
    }

    /// Info for `request` on `provider`: the request's model, else `default_model`; the
    /// prompt's token estimate (system prompt and messages, [`estimate_tokens`]'s rule);
    /// the request's reply cap and time limits. Priced [`Pricing::Unknown`] until said
    /// otherwise.
    pub fn for_request(
        provider: impl Into<String>,
        request: &ChatRequest,
        default_model: &str,
    ) -> StreamInfo {
        StreamInfo::for_request_or(
            provider,
            request,
            default_model,
            Timeouts::default(),
            DEFAULT_MAX_REPLY_BYTES,
        )
    }

    /// [`for_request`](Self::for_request), each limit the request does not set taken
    /// from the provider's (`timeouts`, `max_reply_bytes`): computed once, here.
    pub(crate) fn for_request_or(
        provider: impl Into<String>,
        request: &ChatRequest,
        default_model: &str,
        timeouts: Timeouts,
        max_reply_bytes: usize,
    ) -> StreamInfo {
        let model = request.model.as_deref().unwrap_or(default_model);
        let chars: usize = request
            .full_conversation()
            .map(|(_, text)| text.chars().count())
            .sum();
        StreamInfo {
            provider: provider.into(),
            model: model.to_owned(),
            pricing: Pricing::Unknown,
            prompt_tokens_estimate: (chars as u64).div_ceil(4),
            max_reply_bytes: request.max_reply_bytes.unwrap_or(max_reply_bytes),
            timeouts: request.timeouts.or(timeouts),
            #[cfg(feature = "tracing")]
            telemetry: Telemetry::of(request),
        }
    }

    /// Sets the pricing.
    #[must_use]
    pub fn with_pricing(mut self, pricing: Pricing) -> StreamInfo {
        self.pricing = pricing;
        self
    }

    /// Sets the prompt token estimate (see [`estimate_tokens`]).
    #[must_use]
    pub fn with_prompt_tokens_estimate(mut self, tokens: u64) -> StreamInfo {
        self.prompt_tokens_estimate = tokens;
        self
    }

    /// Sets the largest reply a [`Collector`](crate::reply::Collector) takes, in bytes of text
    /// and reasoning.
    #[must_use]
    pub fn with_max_reply_bytes(mut self, limit: usize) -> StreamInfo {
        self.max_reply_bytes = limit;
        self
    }

    /// Sets the time limits [`ChatStream::new`](crate::ChatStream::new) applies.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> StreamInfo {
        self.timeouts = timeouts;
        self
    }

    /// The provider's name (`"openai"`, `"ollama"`, `"mock"`, or a custom name).
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The model that was requested (after applying the provider's default).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// How the model is priced.
    pub fn pricing(&self) -> Pricing {
        self.pricing
    }

    /// An estimate of the prompt's tokens, used only when the provider reports no count.
    pub fn prompt_tokens_estimate(&self) -> u64 {
        self.prompt_tokens_estimate
    }

    /// The largest reply a [`Collector`](crate::reply::Collector) takes, in bytes.
    pub fn max_reply_bytes(&self) -> usize {
        self.max_reply_bytes
    }

    /// The time limits of the stream.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }
}

/// A rough token count for text whose real count is not reported: one token per
/// four characters, rounded up (the usual rule of thumb for English and code).
///
/// ```
/// assert_eq!(theory_llm::kit::estimate_tokens(""), 0);
/// assert_eq!(theory_llm::kit::estimate_tokens("Hello"), 2);
/// ```
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

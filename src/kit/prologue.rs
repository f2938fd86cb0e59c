//! The request prologue: what every HTTP provider does with a request before anything
//! is sent.

use crate::kit::settings::HttpSettings;
use crate::pricing::Pricing;
use crate::request::ChatRequest;
use crate::retry::RetryPolicy;
use crate::stream::{ChatStream, StreamInfo};

/// A request, ready to send: the stream's info (the model, the request's or the
/// default; its pricing; the prompt's token estimate; the reply cap and time limits,
/// the request's or else the provider's) and the retry policy.
#[derive(Debug)]
pub(crate) struct Prologue {
    pub(crate) info: StreamInfo,
    pub(crate) retry: RetryPolicy,
}

impl Prologue {
    /// The prologue of `request` on `provider`; for a request that fails validation,
    /// the stream of its error, ready to return.
    pub(crate) fn new(
        provider: &str,
        request: &ChatRequest,
        default_model: &str,
        settings: &HttpSettings,
        pricing: impl FnOnce(&str) -> Pricing,
    ) -> Result<Prologue, Box<ChatStream>> {
        let info = Prologue::info(provider, request, default_model, settings, pricing);
        if let Err(e) = request.validate() {
            return Err(Box::new(ChatStream::from_error(info, e)));
        }
        Ok(Prologue {
            info,
            retry: settings.retry_policy(request.max_retries),
        })
    }

    /// The stream's info alone (what `stream_info` tells before a stream is made).
    pub(crate) fn info(
        provider: &str,
        request: &ChatRequest,
        default_model: &str,
        settings: &HttpSettings,
        pricing: impl FnOnce(&str) -> Pricing,
    ) -> StreamInfo {
        let mut info = StreamInfo::for_request_or(
            provider,
            request,
            default_model,
            settings.timeouts,
            settings.max_reply_bytes,
        );
        info.pricing = pricing(&info.model);
        info
    }
}

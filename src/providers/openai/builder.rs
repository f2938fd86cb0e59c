//! The settings only the `openai` provider has, and their setters on its builder (the
//! settings every provider has are [`ProviderBuilder`]'s own).

use crate::kit::ProviderBuilder;

use super::ChatCompletions;

/// The settings only [`OpenAiProvider`](super::OpenAiProvider) has.
#[derive(Debug, Clone, Default)]
pub struct ChatCompletionsSettings {
    pub(crate) stream_options: Option<bool>,
}

impl ProviderBuilder<ChatCompletions> {
    /// Whether to send `stream_options: {"include_usage": true}` (default `true`). Some
    /// compatible servers reject it; the provider also turns it off by itself after a
    /// 400 that names it, retrying once.
    #[must_use]
    pub fn stream_options(mut self, send: bool) -> Self {
        self.own.stream_options = Some(send);
        self
    }
}

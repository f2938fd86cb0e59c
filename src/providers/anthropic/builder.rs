//! The settings only the `anthropic` provider has, and their setters on its builder
//! (the settings every provider has are [`ProviderBuilder`]'s own).

use crate::kit::ProviderBuilder;

use super::Messages;

/// The settings only [`AnthropicProvider`](super::AnthropicProvider) has.
#[derive(Debug, Clone, Default)]
pub struct MessagesSettings {
    pub(crate) max_tokens: Option<u32>,
}

impl ProviderBuilder<Messages> {
    /// The `max_tokens` sent when a request sets none (default
    /// [`AnthropicProvider::DEFAULT_MAX_TOKENS`](super::AnthropicProvider::DEFAULT_MAX_TOKENS),
    /// 4096): the API requires one.
    #[must_use]
    pub fn default_max_tokens(mut self, max_tokens: u32) -> Self {
        self.own.max_tokens = Some(max_tokens);
        self
    }
}

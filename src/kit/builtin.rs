//! [`Provider`]: a built-in HTTP provider, the kit's [`HttpProvider`] made from a
//! [`Description`] by [`ProviderBuilder`]. `OpenAiProvider`, `AnthropicProvider`, … are
//! instances of it, one per [`Api`].

use std::fmt;

use crate::error::Result;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;
use crate::stream::ChatStream;

use super::api::{Api, Description};
use super::provider::HttpProvider;
use super::provider_builder::ProviderBuilder;

/// A built-in HTTP provider: [`OpenAiProvider`](crate::OpenAiProvider),
/// [`AnthropicProvider`](crate::AnthropicProvider), … are this type for their API.
/// Cheap to clone (the configuration is shared). Its API key never appears in
/// `Debug`, logs or error messages.
pub struct Provider<A: Api> {
    pub(crate) http: HttpProvider<A>,
    description: &'static Description,
}

impl<A: Api> Clone for Provider<A> {
    fn clone(&self) -> Self {
        Provider {
            http: self.http.clone(),
            description: self.description,
        }
    }
}

impl<A: Api> Provider<A> {
    pub(crate) fn made(http: HttpProvider<A>, description: &'static Description) -> Provider<A> {
        Provider { http, description }
    }

    /// A builder for every setting, starting from the provider's defaults (it reads no
    /// environment variable; [`builder_from_env`](Self::builder_from_env) does).
    pub fn builder() -> ProviderBuilder<A> {
        ProviderBuilder::default()
    }

    /// Configured from the environment: the provider's key and base URL variables (the
    /// provider table in the README lists them).
    ///
    /// # Errors
    /// `provider_unavailable` naming the key variable when the provider needs a key and
    /// it is not set (unless the base URL is on this machine: local servers usually need
    /// none); `invalid_request` when the base URL variable cannot be used.
    pub fn from_env() -> Result<Provider<A>> {
        Provider::builder_from_env().build()
    }

    /// A builder preset from the environment (as [`from_env`](Self::from_env) reads
    /// it), to adjust before `build()`, which reports what is missing.
    pub fn builder_from_env() -> ProviderBuilder<A> {
        Provider::builder_from_lookup(|name| std::env::var(name).ok())
    }

    /// [`builder_from_env`](Self::builder_from_env) with a custom variable lookup.
    pub(crate) fn builder_from_lookup(var: impl Fn(&str) -> Option<String>) -> ProviderBuilder<A> {
        ProviderBuilder::from_lookup(A::description(), var)
    }

    /// [`from_env`](Self::from_env) with a custom variable lookup.
    #[cfg(test)]
    pub(crate) fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Provider<A>> {
        Provider::builder_from_lookup(var).build()
    }

    /// The base URL requests go to (no trailing slash), with the password of any user
    /// info in it redacted; the first, for an endpoint pool.
    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    /// Every base URL requests may go to (more than one for an endpoint pool), as
    /// [`base_url`](Self::base_url) shows them.
    pub fn base_urls(&self) -> Vec<&str> {
        self.http.base_urls()
    }
}

impl<A: Api> fmt::Debug for Provider<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.http.shared;
        let auth = shared.builtin.as_ref().map(|builtin| &builtin.auth);
        f.debug_struct(self.description.type_name)
            .field("name", &self.description.name)
            .field("base_urls", &self.base_urls())
            .field("default_model", &shared.default_model)
            .field("auth", &auth)
            .field("dialect", &shared.dialect)
            .field("settings", &shared.settings)
            .finish_non_exhaustive()
    }
}

impl<A: Api> LlmStreamProvider for Provider<A> {
    fn name(&self) -> &str {
        self.description.name
    }

    fn default_model(&self) -> &str {
        self.http.default_model()
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        self.http.stream_chat(request)
    }
}

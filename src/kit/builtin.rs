//! [`Provider`]: a built-in HTTP provider, the kit's [`HttpProvider`] made from a
//! [`Description`] by [`ProviderBuilder`]. `OpenAiProvider`, `AnthropicProvider`, … are
//! instances of it, one per [`Api`].

use std::fmt;

use crate::embed::{no_embeddings, Embedder};
use crate::error::Result;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;
use crate::stream::{ChatStream, StreamInfo};

use super::api::{Api, Description};
use super::provider::HttpProvider;

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
    /// The provider's name (`"openai"`), as replies, errors and spans give it.
    pub const NAME: &'static str = A::DESCRIPTION.name;
    /// The model asked for when a request names none, unless the builder set another.
    pub const DEFAULT_MODEL: &'static str = A::DESCRIPTION.default_model;
    /// The base URL when none is configured.
    pub const DEFAULT_BASE_URL: &'static str = A::DESCRIPTION.default_base_url;

    pub(crate) fn made(http: HttpProvider<A>, description: &'static Description) -> Provider<A> {
        Provider { http, description }
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

    fn embedder(&self) -> Result<&dyn Embedder> {
        match self.has_embeddings() {
            true => Ok(self),
            false => Err(no_embeddings(self.description.name)),
        }
    }

    fn stream_info(&self, request: &ChatRequest) -> StreamInfo {
        self.http.stream_info(request)
    }
}

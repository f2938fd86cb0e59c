//! Embeddings on the kit: the one way every built-in provider whose API has an
//! [`EmbeddingApi`] sends them:
//! the inputs cut into batches, each batch a `POST` with the provider's key, endpoints,
//! retries, time limits and caps, the vectors checked and gathered in order, every
//! error scrubbed of secrets.

use futures::future::BoxFuture;
use tokio::time::Instant;

use crate::embed::{batches, no_embeddings, Collected, EmbedRequest, Embedder, Embeddings};
use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::retry;

use super::api::Api;
use super::builtin::Provider;
use super::embedding_api::EmbeddingApi;
use super::post::Posting;
use super::provider::HttpProvider;
use super::{Dialect, HttpRequest};

/// One batch of an embedding request, as [`HttpProvider::post_whole`] sends it.
struct BatchPost<'a> {
    api: &'a dyn EmbeddingApi,
    inputs: &'a [String],
    model: &'a str,
    dimensions: Option<u32>,
}

impl Posting for BatchPost<'_> {
    fn request(&self) -> Result<HttpRequest> {
        self.api
            .embed_request(self.inputs, self.model, self.dimensions)
    }

    fn adapt(&self, failure: &ErrorResponse) -> bool {
        self.api.embed_adapt(failure)
    }

    fn classify(&self, failure: ErrorResponse) -> Error {
        self.api.embed_error(failure, self.model)
    }
}

impl<D: Dialect> HttpProvider<D> {
    /// Embeds `request` through `api`, `default_model` unless the request names one.
    async fn embed_with(
        &self,
        api: &dyn EmbeddingApi,
        request: EmbedRequest,
        default_model: &str,
    ) -> Result<Embeddings> {
        let shared = &self.shared;
        let name = shared.dialect.name();
        request.validate(name)?;
        let model = request.model_or(default_model).to_owned();
        let settings = &shared.settings;
        let max = settings.max_reply_bytes;
        let pricing = shared.pricing(&model);
        let mut collected = Collected::new(name, &model, pricing, &request, max);
        let called_at = Instant::now();
        let policy = settings.retry_policy(request.max_retries);
        let timeouts = request.timeouts.or(settings.timeouts);
        let scrub = |error: Error| shared.redactor.error(error);
        for range in batches(&request.inputs, api.max_inputs(), api.max_chars()) {
            let inputs = &request.inputs[range];
            let post = BatchPost {
                api,
                inputs,
                model: &model,
                dimensions: request.dimensions,
            };
            let post = &post;
            let (body, origin) = retry::call(name, policy, timeouts, called_at, |give_up_at| {
                self.post_whole(post, max, timeouts.idle, give_up_at)
            })
            .await
            .map_err(scrub)?;
            let batch = api
                .embed_reply(&body, inputs.len(), &origin)
                .map_err(scrub)?;
            drop(body);
            collected.push(batch, inputs, &origin).map_err(scrub)?;
        }
        let mut embeddings = collected.finish();
        embeddings.model = shared.redactor.text(&embeddings.model);
        Ok(embeddings)
    }
}

impl<A: Api> Provider<A> {
    /// Whether the provider's API has embeddings.
    pub(crate) fn has_embeddings(&self) -> bool {
        self.http.dialect().embeddings().is_some()
    }
}

impl<A: Api> Embedder for Provider<A> {
    /// The builder's [`default_embedding_model`](super::ProviderBuilder::default_embedding_model),
    /// else the API's (`text-embedding-3-small`, `gemini-embedding-001`,
    /// `nomic-embed-text`); empty for a provider without embeddings.
    fn default_embedding_model(&self) -> &str {
        let api = self.http.dialect().embeddings();
        match &self.http.shared.embedding_model {
            Some(model) if api.is_some() => model,
            _ => api.map_or("", |api| api.embedding_model()),
        }
    }

    fn embed(&self, request: EmbedRequest) -> BoxFuture<'_, Result<Embeddings>> {
        Box::pin(async move {
            let Some(api) = self.http.dialect().embeddings() else {
                return Err(no_embeddings(self.http.dialect().name()));
            };
            let default_model = self.default_embedding_model();
            self.http.embed_with(api, request, default_model).await
        })
    }
}

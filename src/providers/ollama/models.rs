//! `list_models`: what an Ollama server has (`GET /api/tags`, what `ollama list` shows).

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};

use crate::duration::fmt_duration;
use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::kit::Fetched;
use crate::lenient::Reported;

use super::errors::classify;
use super::OllamaProvider;

impl OllamaProvider {
    /// The models this Ollama server has (`GET /api/tags`, what `ollama list` shows),
    /// in the server's order.
    ///
    /// The request is bounded by the provider's deadline if one is set, else by its
    /// first-chunk timeout (120 s by default).
    ///
    /// ```no_run
    /// use theory_llm::OllamaProvider;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> theory_llm::Result<()> {
    /// let ollama = OllamaProvider::from_env()?;
    /// for model in ollama.list_models().await? {
    ///     println!("{} ({} bytes, {})", model.name, model.size, model.details.parameter_size);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// `provider_unavailable` when nothing answers at the host (suggesting
    /// `ollama serve`); the server's error, classified by status, for a non-2xx reply;
    /// `protocol` if the body is not a model list; `timeout` past the limit above.
    pub async fn list_models(&self) -> Result<Vec<LocalModel>> {
        let settings = &self.http.shared.settings;
        let limit = settings.timeouts.deadline.or(settings.timeouts.first_chunk);
        let work = self.fetch_models();
        match limit {
            None => work.await,
            Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "ollama timed out: listing the models at {} took longer than {}. Check that the server is not overloaded, or raise the timeout",
                        self.host(),
                        fmt_duration(limit)
                    ),
                ))
            }),
        }
    }

    async fn fetch_models(&self) -> Result<Vec<LocalModel>> {
        let limit = self.http.shared.settings.max_frame_bytes;
        let body = match self
            .http
            .get("/api/tags", "application/json", limit)
            .await?
        {
            Fetched::Body(body) => body,
            Fetched::Failed(failure) => return Err(classify(*failure, None, self.host())),
        };
        let tags: Tags = serde_json::from_slice(&body).map_err(|e| {
            self.http.first_endpoint().origin.malformed(&format!(
                "GET /api/tags did not return a model list ({e}): {}",
                excerpt(&String::from_utf8_lossy(&body), 120)
            ))
        })?;
        Ok(tags.models.into_iter().map(TagModel::into_public).collect())
    }
}

/// A model on the Ollama server, as `GET /api/tags` (and `ollama list`) reports it.
///
/// Fields the server leaves out are empty (or 0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LocalModel {
    /// The name to request it by, with its tag: `qwen2.5:0.5b`, `llama3.2:latest`.
    pub name: String,
    /// The model reference (usually the same as `name`).
    pub model: String,
    /// Size on disk in bytes (0 for cloud models).
    pub size: u64,
    /// When it was last pulled or changed, as the server wrote it (RFC 3339).
    pub modified_at: String,
    /// The content digest of its manifest (`sha256:…` or bare hex).
    pub digest: String,
    /// Format, family, parameter size and quantization.
    pub details: LocalModelDetails,
}

/// What `GET /api/tags` says about a model's build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LocalModelDetails {
    /// The model it was derived from, if any.
    pub parent_model: String,
    /// The file format, e.g. `gguf`.
    pub format: String,
    /// The architecture family, e.g. `qwen2`, `llama`.
    pub family: String,
    /// Every family it belongs to.
    pub families: Vec<String>,
    /// The parameter count as Ollama writes it, e.g. `494.03M`, `3.2B`.
    pub parameter_size: String,
    /// The quantization, e.g. `Q4_K_M`.
    pub quantization_level: String,
}

/// The body of `GET /api/tags`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Tags {
    #[serde(deserialize_with = "list")]
    pub(crate) models: Vec<TagModel>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TagModel {
    #[serde(deserialize_with = "owned")]
    name: String,
    #[serde(deserialize_with = "owned")]
    model: String,
    size: Reported,
    #[serde(deserialize_with = "owned")]
    modified_at: String,
    #[serde(deserialize_with = "owned")]
    digest: String,
    details: Option<TagDetails>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TagDetails {
    #[serde(deserialize_with = "owned")]
    parent_model: String,
    #[serde(deserialize_with = "owned")]
    format: String,
    #[serde(deserialize_with = "owned")]
    family: String,
    #[serde(deserialize_with = "list")]
    families: Vec<String>,
    #[serde(deserialize_with = "owned")]
    parameter_size: String,
    #[serde(deserialize_with = "owned")]
    quantization_level: String,
}

impl TagModel {
    pub(crate) fn into_public(self) -> LocalModel {
        let d = self.details.unwrap_or_default();
        LocalModel {
            name: self.name,
            model: self.model,
            size: self.size.value().unwrap_or(0),
            modified_at: self.modified_at,
            digest: self.digest,
            details: LocalModelDetails {
                parent_model: d.parent_model,
                format: d.format,
                family: d.family,
                families: d.families,
                parameter_size: d.parameter_size,
                quantization_level: d.quantization_level,
            },
        }
    }
}

/// A string; `null` is empty.
fn owned<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A list; `null` is empty.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

//! Ollama's embeddings, `POST {host}/api/embed`: a batch of inputs in, one vector
//! each (in order) and the tokens counted (`prompt_eval_count`) out. The provider's
//! `keep_alive` and `options` go with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::embed::{malformed, Batch, Vector};
use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{EmbeddingApi, HttpRequest, Reported};
use crate::origin::Origin;

use super::dialect::ApiChat;
use super::errors::{classify, error_text};

/// The model used when none is named: the most pulled embedding model.
const DEFAULT_MODEL: &str = "nomic-embed-text";
/// Inputs a request carries: Ollama sets no limit, and embeds them one after another.
const MAX_INPUTS: usize = 512;

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_alive: Option<&'a Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    options: &'a BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    embeddings: Option<Vec<Vector>>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    prompt_eval_count: Reported,
    #[serde(default)]
    error: Option<Value>,
}

impl EmbeddingApi for ApiChat {
    fn embedding_model(&self) -> &str {
        DEFAULT_MODEL
    }

    fn max_inputs(&self) -> usize {
        MAX_INPUTS
    }

    fn embed_request(
        &self,
        inputs: &[String],
        model: &str,
        dimensions: Option<u32>,
    ) -> Result<HttpRequest> {
        let body = Request {
            model,
            input: inputs,
            dimensions,
            keep_alive: self.keep_alive.as_ref(),
            options: &self.options,
        };
        HttpRequest::post_json("/api/embed", &body)
            .map_err(|e| e.context("ollama: "))?
            .header("accept", "application/json")
    }

    fn embed_reply(&self, body: &[u8], inputs: usize, origin: &Origin) -> Result<Batch> {
        let reply: Reply = serde_json::from_slice(body)
            .map_err(|e| malformed(origin, &format!("not an /api/embed reply ({e})")))?;
        let Some(embeddings) = reply.embeddings else {
            let detail = match &reply.error {
                Some(error) => format!("an error instead of embeddings: {}", error_text(error)),
                None => "no embeddings".to_owned(),
            };
            return Err(malformed(origin, &detail));
        };
        if embeddings.len() != inputs {
            let detail = format!("{} embeddings for {inputs} inputs", embeddings.len());
            return Err(malformed(origin, &detail));
        }
        Ok(Batch {
            vectors: embeddings.into_iter().map(|v| v.0).collect(),
            tokens_in: reply.prompt_eval_count.value(),
            model: reply.model,
        })
    }

    fn embed_error(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(failure, Some(model), &self.host)
    }
}

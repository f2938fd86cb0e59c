//! Gemini's embeddings, `POST {base}/v1beta/models/{model}:batchEmbedContents`: one
//! `EmbedContentRequest` per input, the vectors back in the requests' order. The API
//! reports no tokens (Vertex AI's `usageMetadata` is read where a server sends it), so
//! they are usually estimated.

use serde::{Deserialize, Serialize};

use crate::embed::{malformed, Batch, Vector};
use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{path_segment, EmbeddingApi, HttpRequest, Reported};
use crate::origin::Origin;

use super::dialect::{model_id, GeminiDialect};
use super::errors::classify;

/// The model used when none is named.
const DEFAULT_MODEL: &str = "gemini-embedding-001";
/// The most requests a batch may carry (the API's limit).
const MAX_INPUTS: usize = 100;

#[derive(Serialize)]
struct Request<'a> {
    requests: Vec<EmbedContent<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EmbedContent<'a> {
    model: &'a str,
    content: Content<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimensionality: Option<u32>,
}

#[derive(Serialize)]
struct Content<'a> {
    parts: [Part<'a>; 1],
}

#[derive(Serialize)]
struct Part<'a> {
    text: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reply {
    #[serde(default)]
    embeddings: Option<Vec<Embedding>>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
}

#[derive(Deserialize)]
struct Embedding {
    values: Vector,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: Reported,
}

impl EmbeddingApi for GeminiDialect {
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
        let id = model_id(model);
        let resource = format!("models/{id}");
        let requests = inputs
            .iter()
            .map(|text| EmbedContent {
                model: &resource,
                content: Content {
                    parts: [Part { text }],
                },
                output_dimensionality: dimensions,
            })
            .collect();
        let path = format!("/v1beta/models/{}:batchEmbedContents", path_segment(id));
        HttpRequest::post_json(path, &Request { requests })
            .map_err(|e| e.context("gemini: "))?
            .header("accept", "application/json")
    }

    fn embed_reply(&self, body: &[u8], inputs: usize, origin: &Origin) -> Result<Batch> {
        let reply: Reply = serde_json::from_slice(body)
            .map_err(|e| malformed(origin, &format!("not a batchEmbedContents reply ({e})")))?;
        let embeddings = reply
            .embeddings
            .ok_or_else(|| malformed(origin, "no embeddings"))?;
        if embeddings.len() != inputs {
            let detail = format!("{} embeddings for {inputs} inputs", embeddings.len());
            return Err(malformed(origin, &detail));
        }
        Ok(Batch {
            vectors: embeddings.into_iter().map(|e| e.values.0).collect(),
            tokens_in: reply
                .usage_metadata
                .and_then(|u| u.prompt_token_count.value()),
            model: None,
        })
    }

    fn embed_error(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(failure, model)
    }
}

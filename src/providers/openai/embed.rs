//! OpenAI's embeddings, `POST {base}/embeddings`: for api.openai.com, Azure's
//! deployments and every compatible server (llama.cpp, vLLM, Ollama's `/v1`, gateways).
//! Vectors are asked for as base64 (a quarter the size of decimal text, and exact);
//! a server that sends numbers anyway is read too, and one that rejects
//! `encoding_format` is asked again without it.

use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use crate::embed::{in_index_order, malformed, Batch, Vector};
use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{EmbeddingApi, HttpRequest, Reported};
use crate::origin::Origin;

use super::dialect::ChatCompletions;
use super::errors::classify;

/// The model used when none is named.
pub(crate) const DEFAULT_MODEL: &str = "text-embedding-3-small";
/// The most inputs a request may carry (OpenAI's limit).
pub(crate) const MAX_INPUTS: usize = 2048;
/// OpenAI's limit is 300,000 tokens a request: at one token a character, no request
/// passes it.
pub(crate) const MAX_CHARS: usize = 300_000;

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding_format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    data: Option<Vec<Item>>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    index: Reported,
    embedding: Vector,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: Reported,
}

/// The body of a request embedding `inputs`; base64 unless the server refused it.
pub(crate) fn request(
    path: String,
    inputs: &[String],
    model: &str,
    dimensions: Option<u32>,
    base64: bool,
) -> Result<HttpRequest> {
    let body = Request {
        model,
        input: inputs,
        encoding_format: base64.then_some("base64"),
        dimensions,
    };
    HttpRequest::post_json(path, &body)?.header("accept", "application/json")
}

/// The vectors of a reply to `inputs` inputs, put in the order of their `index`.
pub(crate) fn decode(body: &[u8], inputs: usize, origin: &Origin) -> Result<Batch> {
    let reply: Reply = serde_json::from_slice(body)
        .map_err(|e| malformed(origin, &format!("not an embeddings reply ({e})")))?;
    let Some(data) = reply.data else {
        let detail = match reply.error {
            Some(error) => format!(
                "an error instead of data: {}",
                crate::error::excerpt(&error.to_string(), 300)
            ),
            None => "no data".to_owned(),
        };
        return Err(malformed(origin, &detail));
    };
    let mut items = Vec::with_capacity(data.len());
    for (position, item) in data.into_iter().enumerate() {
        let index = match item.index {
            Reported::Value(index) => index,
            Reported::Missing => position as u64,
            Reported::Invalid => {
                return Err(malformed(
                    origin,
                    "an embedding whose index is not a number",
                ))
            }
        };
        items.push((index, item.embedding.0));
    }
    let vectors = in_index_order(items, inputs).map_err(|detail| malformed(origin, &detail))?;
    Ok(Batch {
        vectors,
        tokens_in: reply.usage.and_then(|u| u.prompt_tokens.value()),
        model: reply.model,
    })
}

/// Whether a 400 names `encoding_format`: a server that does not take base64.
pub(crate) fn refuses_base64(failure: &ErrorResponse) -> bool {
    failure.status() == 400
        && (failure.message().contains("encoding_format")
            || failure.param() == Some("encoding_format"))
}

impl EmbeddingApi for ChatCompletions {
    fn embedding_model(&self) -> &str {
        DEFAULT_MODEL
    }

    fn max_inputs(&self) -> usize {
        MAX_INPUTS
    }

    fn max_chars(&self) -> Option<usize> {
        Some(MAX_CHARS)
    }

    fn embed_request(
        &self,
        inputs: &[String],
        model: &str,
        dimensions: Option<u32>,
    ) -> Result<HttpRequest> {
        let base64 = self.base64_embeddings.load(Ordering::Relaxed);
        request("/embeddings".to_owned(), inputs, model, dimensions, base64)
            .map_err(|e| e.context(&format!("{}: ", self.name)))
    }

    fn embed_reply(&self, body: &[u8], inputs: usize, origin: &Origin) -> Result<Batch> {
        decode(body, inputs, origin)
    }

    fn embed_adapt(&self, failure: &ErrorResponse) -> bool {
        refuses_base64(failure) && self.base64_embeddings.swap(false, Ordering::Relaxed)
    }

    fn embed_error(&self, failure: ErrorResponse, model: &str) -> Error {
        let endpoint = format!("{}/embeddings", self.shown_base_url);
        classify(failure, model, self.name, &endpoint, self.key_var)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin::new("openai", "http://127.0.0.1:1/v1")
    }

    proptest::proptest! {
        /// Any body, bytes or JSON of the reply's shape with any values: vectors or an
        /// error, never a panic.
        #[test]
        fn any_body_decodes_or_fails(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            index in "-?[0-9]{0,21}(\\.[0-9])?|\"0\"|null",
            embedding in "\\[[-0-9e., ]{0,40}\\]|\"[A-Za-z0-9+/=]{0,24}\"|null|\\{\\}",
            tokens in "[0-9]{0,22}|-1|null|\"7\"",
            inputs in 0usize..3,
        ) {
            let _ = decode(&bytes, inputs, &origin());
            let body = format!(
                r#"{{"data":[{{"index":{index},"embedding":{embedding}}}],"usage":{{"prompt_tokens":{tokens}}}}}"#
            );
            let _ = decode(body.as_bytes(), inputs, &origin());
        }
    }
}

//! The body of `POST /api/chat`, made from a [`ChatRequest`]: its options (the request's
//! settings, then the provider's extra entries), tools, `format`, images and the turns
//! of a tool loop; [`Reasoning`] as `think` (`false`, `true` or a level; Ollama has no
//! budget).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::request::{ChatRequest, Image, Message, Reasoning, ResponseFormat, Role};

#[derive(Debug, Serialize)]
pub(crate) struct Chat<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<WireMessage<'a>>,
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<Value>,
    /// `"json"` or a JSON Schema object, at the top level (never in `options`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) format: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) options: Option<Options<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) keep_alive: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) think: Option<Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    pub(crate) role: &'static str,
    pub(crate) content: &'a str,
    /// Base64, without a `data:` prefix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) images: Vec<String>,
    /// Always with `id` and `type`: real Ollama ignores them, but servers that forward
    /// to an OpenAI-compatible backend need both.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tool_calls: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_call_id: Option<&'a str>,
}

/// `options`: the request's settings, plus the provider's extra entries for keys
/// the request does not set.
#[derive(Debug, Serialize)]
pub(crate) struct Options<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) num_predict: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stop: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    #[serde(flatten)]
    pub(crate) extra: BTreeMap<&'a str, &'a Value>,
}

impl<'a> Chat<'a> {
    /// The body; `invalid_request` for an image given by URL (Ollama takes the data) or
    /// a reasoning budget (Ollama takes none).
    pub(crate) fn new(
        request: &'a ChatRequest,
        model: &'a str,
        keep_alive: Option<&'a Value>,
        defaults: &'a BTreeMap<String, Value>,
    ) -> Result<Chat<'a>> {
        let system = request.system.as_deref().map(|s| WireMessage {
            role: Role::System.as_str(),
            content: s,
            images: Vec::new(),
            tool_calls: Vec::new(),
            tool_name: None,
            tool_call_id: None,
        });
        let messages = system
            .into_iter()
            .map(Ok)
            .chain(request.messages.iter().map(message))
            .collect::<Result<Vec<_>>>()?;
        let think = match request.reasoning {
            None => None,
            Some(Reasoning::Off) => Some(Value::Bool(false)),
            Some(Reasoning::On) => Some(Value::Bool(true)),
            Some(Reasoning::Effort(level)) => Some(Value::from(level.as_str())),
            Some(other) => {
                return Err(other.unsupported(
                    super::OllamaProvider::NAME,
                    "Reasoning::On, Reasoning::Off or Reasoning::Effort(level), sent as think",
                ))
            }
        };
        Ok(Chat {
            model,
            messages,
            stream: true,
            tools: request
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": t.parameters}})
                })
                .collect(),
            format: match &request.response_format {
                Some(ResponseFormat::JsonObject) => Some(json!("json")),
                Some(ResponseFormat::JsonSchema { schema, .. }) => Some(schema.clone()),
                _ => None,
            },
            options: options(request, defaults),
            keep_alive,
            think,
        })
    }
}

fn options<'a>(
    request: &'a ChatRequest,
    defaults: &'a BTreeMap<String, Value>,
) -> Option<Options<'a>> {
    let stop = (!request.stop.is_empty()).then_some(request.stop.as_slice());
    let set_by_request = |key: &str| match key {
        "temperature" => request.temperature.is_some(),
        "num_predict" => request.max_tokens.is_some(),
        "stop" => stop.is_some(),
        "seed" => request.seed.is_some(),
        _ => false,
    };
    let options = Options {
        temperature: request.temperature,
        num_predict: request.max_tokens,
        stop,
        seed: request.seed,
        extra: defaults
            .iter()
            .filter(|(k, _)| !set_by_request(k))
            .map(|(k, v)| (k.as_str(), v))
            .collect(),
    };
    let empty = options.temperature.is_none()
        && options.num_predict.is_none()
        && options.stop.is_none()
        && options.seed.is_none()
        && options.extra.is_empty();
    (!empty).then_some(options)
}

fn message(m: &Message) -> Result<WireMessage<'_>> {
    let images = m
        .images
        .iter()
        .map(|image| match image.base64() {
            Some((_, data)) => Ok(data),
            None => Err(url_image(image)),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(WireMessage {
        role: m.role.as_str(),
        content: &m.content,
        images,
        tool_calls: m
            .tool_calls
            .iter()
            .enumerate()
            .map(|(index, call)| {
                json!({"id": call.id, "type": "function", "function": {
                    "index": index, "name": call.name, "arguments": call.arguments}})
            })
            .collect(),
        tool_name: m.tool_name.as_deref(),
        tool_call_id: m.tool_call_id.as_deref(),
    })
}

fn url_image(image: &Image) -> Error {
    let url = match image {
        Image::Url(url) => url.as_str(),
        _ => "",
    };
    Error::new(
        ErrorKind::InvalidRequest,
        format!(
            "images go to Ollama as data, not as URLs ({}): give the image's bytes with Image::bytes",
            crate::error::excerpt(url, 100)
        ),
    )
}

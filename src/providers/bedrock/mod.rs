//! The `bedrock` provider: Amazon Bedrock's Converse API over ConverseStream
//! (`POST {base}/model/{modelId}/converse-stream`), whose reply is an AWS event stream:
//! binary, length-prefixed messages with typed headers and two CRC32s
//! ([`Framing::EventStream`](crate::kit::Framing::EventStream)).
//!
//! Files: this one (the provider, as data), `builder.rs` (its own settings: the region,
//! the AWS credentials), `dialect.rs` (the API as a kit dialect, SigV4 signing),
//! `sigv4.rs` (the signature), `request.rs` (the request body), `map.rs` (event-stream
//! messages to chunks) with `blocks.rs` (content blocks by index: reasoning with its
//! signature, tool calls assembled), `errors.rs`, `wire.rs` (the reply's serde types).

mod blocks;
mod builder;
mod dialect;
mod errors;
mod map;
mod request;
mod sigv4;
#[cfg(test)]
mod tests;
mod wire;

use crate::kit::{Description, KeyHeader, Provider, ProviderBuilder};

pub use builder::BedrockSettings;
pub use dialect::Converse;
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) use map::ConverseDecoder;

/// The provider's name.
pub(crate) const NAME: &str = "bedrock";

/// The region when neither the builder nor `AWS_REGION` / `AWS_DEFAULT_REGION` names
/// one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The Amazon Bedrock provider (Converse, streamed).
///
/// Configured from the environment: `AWS_BEARER_TOKEN_BEDROCK` (a Bedrock API key, sent
/// as `Authorization: Bearer`), else `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`
/// (and `AWS_SESSION_TOKEN` for temporary credentials), with which every request is
/// signed (SigV4, service `bedrock`); the region from `AWS_REGION`, else
/// `AWS_DEFAULT_REGION`, else [`DEFAULT_REGION`]; requests go to
/// `https://bedrock-runtime.{region}.amazonaws.com` unless `BEDROCK_BASE_URL` says
/// otherwise. No key or secret key appears in `Debug`, logs or error messages.
///
/// The model is a Bedrock model id (`amazon.nova-micro-v1:0`,
/// `anthropic.claude-3-5-haiku-20241022-v1:0`) or an inference profile
/// (`us.anthropic.claude-…`); it is one path segment, encoded. Usage counts the cache
/// apart, as Bedrock does: `tokens_in` is the input plus the cache reads and writes,
/// which are also reported on their own. Claude models are priced at Anthropic's list
/// prices; other models are not priced (give your own with
/// [`price`](ProviderBuilder::price)).
///
/// ```
/// use theory_llm::bedrock::BedrockProvider;
/// use theory_llm::LlmStreamProvider;
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = BedrockProvider::builder()
///     .region("eu-west-1")
///     .aws_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
///     .build()?;
/// assert_eq!(llm.base_url(), "https://bedrock-runtime.eu-west-1.amazonaws.com");
/// assert_eq!(llm.default_model(), "amazon.nova-micro-v1:0");
/// assert!(!format!("{llm:?}").contains("EXAMPLEKEY"));
///
/// // Or a Bedrock API key, sent as a bearer token:
/// let keyed = BedrockProvider::builder().api_key("bedrock-api-key-example").build()?;
/// assert_eq!(keyed.base_url(), "https://bedrock-runtime.us-east-1.amazonaws.com");
/// # Ok(())
/// # }
/// ```
pub type BedrockProvider = Provider<Converse>;

/// Builds a [`BedrockProvider`].
pub type BedrockProviderBuilder = ProviderBuilder<Converse>;

/// What the `bedrock` provider is.
pub(crate) static DESCRIPTION: Description = Description {
    name: NAME,
    type_name: "BedrockProvider",
    default_base_url: "https://bedrock-runtime.{region}.amazonaws.com",
    base_url_name: "base URL",
    default_model: "amazon.nova-micro-v1:0",
    base_url_vars: &["BEDROCK_BASE_URL"],
    key_vars: &["AWS_BEARER_TOKEN_BEDROCK"],
    key_header: KeyHeader::Bearer,
    other_keys: &[],
    key_required: true,
    default_headers: &[],
    example_base_urls: "https://bedrock-runtime.us-east-1.amazonaws.com or http://127.0.0.1:4010",
    unreachable_hint: Some(
        "Check BEDROCK_BASE_URL (or the region: AWS_REGION, AWS_DEFAULT_REGION) and the network",
    ),
    prices: None,
    free: false,
};

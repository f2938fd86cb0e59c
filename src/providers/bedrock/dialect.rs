//! [`Converse`]: Bedrock's ConverseStream as a kit [`Dialect`]: the request, the
//! event-stream decoder, the AWS error rules and SigV4 signing; and what the generic
//! builder needs to make it ([`Api`]): the region, the AWS credentials from the
//! environment, the regional base URL.

use std::fmt;
use std::time::SystemTime;

use crate::error::{Error, ErrorKind, Result};
use crate::http::ErrorResponse;
use crate::kit::{path_segment, Api, Description, Dialect, Framing, HttpRequest, Sealed, Setup};
use crate::origin::Origin;
use crate::pricing::{PriceTable, Pricing};
use crate::request::ChatRequest;

use super::builder::BedrockSettings;
use super::errors::classify;
use super::map::ConverseDecoder;
use super::request::Request;
use super::sigv4::{amz_date, authorization, Credentials, Signing};
use super::{DEFAULT_REGION, NAME};

/// The service requests are signed for.
const SERVICE: &str = "bedrock";

/// Bedrock's Converse API, streamed as an AWS event stream: what
/// [`BedrockProvider`](super::BedrockProvider) speaks.
pub struct Converse {
    region: String,
    credentials: Option<Credentials>,
    /// Anthropic's prices, for Claude on Bedrock.
    claude_prices: PriceTable,
}

impl fmt::Debug for Converse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Converse")
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Sealed for Converse {}

/// The region of `settings`, checked: it names a host and the signature's scope.
fn region(settings: &BedrockSettings) -> Result<String> {
    let region = settings
        .region
        .as_deref()
        .map(str::trim)
        .unwrap_or(DEFAULT_REGION);
    let valid = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("{NAME}: the region '{}' is not one (AWS_REGION): use a region such as {DEFAULT_REGION}", crate::error::excerpt(region, 80)),
        ));
    }
    Ok(region.to_owned())
}

impl Api for Converse {
    type Settings = BedrockSettings;

    const DESCRIPTION: &'static Description = &super::DESCRIPTION;

    const OTHER_CREDENTIALS: Option<&'static str> =
        Some("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (SigV4; AWS_SESSION_TOKEN too for temporary credentials)");

    fn settings_from_env(var: &dyn Fn(&str) -> Option<String>) -> BedrockSettings {
        let access_key = var("AWS_ACCESS_KEY_ID").zip(var("AWS_SECRET_ACCESS_KEY"));
        BedrockSettings {
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            session_token: access_key.as_ref().and_then(|_| var("AWS_SESSION_TOKEN")),
            access_key,
        }
    }

    fn default_base_url(settings: &BedrockSettings) -> Result<Option<String>> {
        Ok(Some(format!(
            "https://bedrock-runtime.{}.amazonaws.com",
            region(settings)?
        )))
    }

    fn own_secrets(settings: &BedrockSettings) -> Vec<String> {
        settings
            .credentials()
            .filter(|c| !c.access_key_id.is_empty() && !c.secret_access_key.is_empty())
            .map(|c| [Some(c.secret_access_key), c.session_token])
            .into_iter()
            .flatten()
            .flatten()
            .collect()
    }

    fn new(settings: BedrockSettings, _setup: &Setup) -> Result<Converse> {
        Ok(Converse {
            region: region(&settings)?,
            credentials: settings
                .credentials()
                .filter(|c| !c.access_key_id.is_empty() && !c.secret_access_key.is_empty()),
            claude_prices: PriceTable::anthropic(),
        })
    }
}

impl Dialect for Converse {
    type Decoder = ConverseDecoder;

    fn name(&self) -> &str {
        NAME
    }

    fn framing(&self) -> Framing {
        Framing::EventStream
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let body = Request::from_chat(chat, model)?;
        let path = format!("/model/{}/converse-stream", path_segment(model));
        HttpRequest::post_json(path, &body)
            .map_err(|e| e.context(&format!("{NAME}: ")))?
            .header("accept", "application/vnd.amazon.eventstream")
    }

    fn decoder(&self, origin: &Origin) -> ConverseDecoder {
        ConverseDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(failure, model)
    }

    /// Claude on Bedrock at Anthropic's list prices (`us.anthropic.claude-…-v1:0` is
    /// priced as `claude-…`); other models are not priced.
    fn pricing(&self, model: &str) -> Pricing {
        let Some((_, claude)) = model.split_once("anthropic.") else {
            return Pricing::Unknown;
        };
        let claude = match claude.rsplit_once("-v") {
            Some((base, version)) if version.bytes().all(|b| b.is_ascii_digit() || b == b':') => {
                base
            }
            _ => claude,
        };
        self.claude_prices.pricing(claude)
    }

    fn unreachable_hint(&self) -> &str {
        "Check BEDROCK_BASE_URL (or the region, AWS_REGION) and the network"
    }

    /// SigV4 with the AWS credentials, unless the request carries its own
    /// `Authorization` (a Bedrock API key) or there are none (a server on this machine).
    fn sign(&self, request: HttpRequest, url: &str) -> Result<HttpRequest> {
        self.sign_at(request, url, SystemTime::now())
    }
}

impl Converse {
    /// [`Dialect::sign`], at `at`.
    pub(crate) fn sign_at(
        &self,
        request: HttpRequest,
        url: &str,
        at: SystemTime,
    ) -> Result<HttpRequest> {
        let Some(credentials) = &self.credentials else {
            return Ok(request);
        };
        if request.has_authorization() {
            return Ok(request);
        }
        let cannot = |why: &str| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("{NAME}: the request cannot be signed: {why}"),
            )
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| cannot(&e.to_string()))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(cannot("the URL has no host")),
        };
        let query: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let date = amz_date(at);
        let mut request = request.header("x-amz-date", &date)?;
        if let Some(token) = &credentials.session_token {
            request = request.sensitive_header("x-amz-security-token", token)?;
        }
        let mut headers: Vec<(String, Vec<u8>)> = vec![("host".to_owned(), host.into_bytes())];
        headers.extend(
            request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_vec())),
        );
        let signing = Signing {
            method: "POST",
            path: parsed.path(),
            query: &query,
            headers: &headers,
            body: request.body(),
            region: &self.region,
            service: SERVICE,
            amz_date: &date,
        };
        let signed = authorization(&signing, credentials);
        request.sensitive_header("authorization", &signed)
    }
}

//! [`Api`]: what makes a built-in provider, as data: a [`Description`] (name, defaults,
//! environment variables, how the key is sent) and the provider's own settings, from
//! which one generic builder ([`ProviderBuilder`](super::ProviderBuilder)) makes every
//! built-in HTTP provider. Adding a provider is a description and a dialect, not a
//! builder.

use std::fmt;

use crate::error::Result;
use crate::pricing::PriceTable;

use super::auth::{Auth, KeyHeader};
use super::embedding_api::EmbeddingApi;
use super::Dialect;

/// Keeps [`Api`] to this crate's dialects: a provider of your own is a
/// [`Dialect`] given to [`HttpProvider`](super::HttpProvider).
pub(crate) mod sealed {
    /// Implemented by the built-in dialects only.
    pub trait Sealed {}
}

/// A built-in HTTP provider, as data. One provider's may start from another's
/// (`Description { name: "openai-responses", ..openai::DESCRIPTION }`).
#[derive(Debug, Clone, Copy)]
pub struct Description {
    /// The registry name, and what replies, errors and spans call it (`"openai"`).
    pub name: &'static str,
    /// The Rust type apps know it by, for `Debug` (`"OpenAiProvider"`).
    pub type_name: &'static str,
    /// The base URL when none is configured.
    pub default_base_url: &'static str,
    /// What its users call the base URL, in messages (`"base URL"`; Ollama's `"host"`).
    pub base_url_name: &'static str,
    /// The model asked for when a request names none.
    pub default_model: &'static str,
    /// Environment variables for the base URL, the first set one wins.
    pub base_url_vars: &'static [&'static str],
    /// Environment variables for the API key, the first set one wins (none: the
    /// provider takes no key from the environment).
    pub key_vars: &'static [&'static str],
    /// How the key is sent.
    pub key_header: KeyHeader,
    /// Other credentials, read from these environment variables when no key variable is
    /// set, each sent its own way (Azure's `AZURE_OPENAI_AD_TOKEN`, as a bearer token).
    pub other_keys: &'static [(&'static str, KeyHeader)],
    /// A key is required, except for a server on this machine (which usually needs
    /// none) or a base URL with user info (sent as Basic authentication).
    pub key_required: bool,
    /// Headers every request carries unless the app gives its own of the same name
    /// (`anthropic-version`).
    pub default_headers: &'static [(&'static str, &'static str)],
    /// Base URLs to suggest when one is not usable.
    pub example_base_urls: &'static str,
    /// What to check when the server cannot be reached; none: that the server runs and
    /// the base URL variable is right.
    pub unreachable_hint: Option<&'static str>,
    /// The price table, unless the app gives its own; none: the dialect prices.
    pub prices: Option<fn() -> PriceTable>,
    /// Free to use (a local server): a model the price table does not list costs 0,
    /// rather than an unknown price.
    pub free: bool,
}

impl Description {
    /// The environment variables it reads, as a line for people:
    /// `OPENAI_API_KEY (required unless OPENAI_BASE_URL is on this machine),
    /// OPENAI_BASE_URL (default https://api.openai.com/v1)`.
    /// Credentials of another kind than a key, `other_credentials`, are named among the
    /// keys (Bedrock's SigV4 variables).
    pub(crate) fn environment_with(&self, other_credentials: Option<&str>) -> String {
        let base = self.base_url_vars.join(" or ");
        let mut keys: Vec<&str> = self.key_vars.to_vec();
        keys.extend(self.other_keys.iter().map(|(name, _)| *name));
        keys.extend(other_credentials);
        let keys = keys.join(" or ");
        let mut parts = Vec::new();
        match (keys.is_empty(), self.key_required) {
            (true, _) => {}
            (false, true) => parts.push(format!(
                "{keys} (required unless {base} is on this machine)"
            )),
            (false, false) => parts.push(format!("{keys} (optional)")),
        }
        if !base.is_empty() {
            parts.push(format!("{base} (default {})", self.default_base_url));
        }
        parts.join(", ")
    }

    /// The hint for a server that cannot be reached.
    pub(crate) fn unreachable_hint(&self) -> String {
        if let Some(hint) = self.unreachable_hint {
            return hint.to_owned();
        }
        match self.base_url_vars.first() {
            Some(var) => format!(
                "Check that the server is running and that {var} (or the base URL you set) is right"
            ),
            None => "Check that the server is running and that the base URL is right".to_owned(),
        }
    }
}

/// What the kit checked, given to a dialect as it is made.
#[derive(Debug)]
pub struct Setup {
    /// The description the provider is made from (a named OpenAI-compatible cloud is
    /// the `openai` dialect with its own).
    pub description: &'static Description,
    /// The first base URL as shown (secrets redacted), for advice in errors.
    pub shown_base_url: String,
    /// The first base URL as requests go to it (no user info, no trailing slash).
    pub base_url: String,
}

/// The API of a built-in provider: its [`Dialect`] together with what the generic
/// builder needs to make it. Implemented by this crate's dialects only; a provider of
/// your own is a [`Dialect`] given to [`HttpProvider`](super::HttpProvider).
pub trait Api: Dialect + Sized + sealed::Sealed {
    /// The provider's own settings (beyond those every provider has), set with its
    /// builder's own setters.
    #[doc(hidden)]
    type Settings: Default + fmt::Debug + Send + Sync;

    /// What the provider is, unless made from another description.
    #[doc(hidden)]
    const DESCRIPTION: &'static Description;

    /// A base URL as the API's users write it, made a URL (Ollama's `OLLAMA_HOST`
    /// grammar); `source` names where it came from, for errors.
    #[doc(hidden)]
    fn base_url(raw: &str, source: &str) -> Result<String> {
        let _ = source;
        Ok(raw.to_owned())
    }

    /// The provider's own settings, as the environment gives them (`var` reads a
    /// variable; unset and blank are `None`); by default none.
    #[doc(hidden)]
    fn settings_from_env(var: &dyn Fn(&str) -> Option<String>) -> Self::Settings {
        let _ = var;
        Self::Settings::default()
    }

    /// The dialect, from the provider's settings and what the kit checked.
    #[doc(hidden)]
    fn new(settings: Self::Settings, setup: &Setup) -> Result<Self>;

    /// The API's embeddings endpoint, if it has one (default: none).
    #[doc(hidden)]
    fn embeddings(&self) -> Option<&dyn EmbeddingApi> {
        None
    }
    /// The base URL when none is configured, when it depends on the provider's own
    /// settings (Bedrock's region); `None`: the description's.
    ///
    /// # Errors
    /// A setting the base URL cannot be made of (`invalid_request`).
    #[doc(hidden)]
    fn default_base_url(settings: &Self::Settings) -> Result<Option<String>> {
        let _ = settings;
        Ok(None)
    }

    /// Secrets the provider's own settings hold: credentials of another kind than the
    /// key (Bedrock's AWS secret key and session token). They are hidden like the key,
    /// and with any of them no key is required.
    #[doc(hidden)]
    fn own_secrets(settings: &Self::Settings) -> Vec<String> {
        let _ = settings;
        Vec::new()
    }

    /// Credentials the provider takes instead of a key, for messages and the
    /// environment line (`"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (SigV4)"`).
    #[doc(hidden)]
    const OTHER_CREDENTIALS: Option<&'static str> = None;
}

/// What a built-in provider has besides its dialect: what its description says, and
/// the key, headers and prices its builder was given.
#[derive(Debug)]
pub(crate) struct Builtin {
    pub(crate) description: &'static Description,
    pub(crate) auth: Auth,
    /// The price table; `None`: the dialect prices.
    pub(crate) prices: Option<PriceTable>,
}

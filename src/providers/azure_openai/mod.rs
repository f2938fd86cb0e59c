//! The `azure-openai` provider: Azure OpenAI's Chat Completions, streamed over
//! Server-Sent Events. The model is the deployment: requests go to
//! `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`, with the
//! key in the `api-key` header, or a Microsoft Entra ID token as `Authorization: Bearer`.
//!
//! Files: this one (the provider, as data), `builder.rs` (its own settings: the API
//! version, the Entra ID token), `dialect.rs` (the Chat Completions dialect on Azure's
//! paths, and its content-filter errors).

mod builder;
mod dialect;
#[cfg(test)]
mod tests;

use crate::kit::{Description, KeyHeader, Provider, ProviderBuilder};
use crate::pricing::PriceTable;

pub use builder::AzureSettings;
pub use dialect::AzureOpenAi;

/// The `api-version` sent unless `AZURE_OPENAI_API_VERSION` or the builder says
/// otherwise: the latest generally available one of the data-plane inference API.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The Azure OpenAI provider: `AZURE_OPENAI_ENDPOINT` (`https://NAME.openai.azure.com`),
/// `AZURE_OPENAI_API_KEY` (sent as `api-key`) or `AZURE_OPENAI_AD_TOKEN` (a Microsoft
/// Entra ID token, sent as `Authorization: Bearer`), `AZURE_OPENAI_API_VERSION` (default
/// [`DEFAULT_API_VERSION`]). The model a request names is the deployment; deployments
/// named after their model are priced from the OpenAI table.
///
/// Azure's content filter is reported as such: a reply it cut finishes with
/// [`FinishReason::ContentFilter`](crate::FinishReason::ContentFilter), and a prompt it
/// refused is an `invalid_request` error that names the categories it flagged.
///
/// ```
/// use theory_llm::azure_openai::AzureOpenAiProvider;
/// use theory_llm::LlmStreamProvider;
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = AzureOpenAiProvider::builder()
///     .base_url("https://my-resource.openai.azure.com")
///     .api_key("example-key")
///     .default_model("my-gpt-4o-mini-deployment")
///     .api_version("2024-10-21")
///     .build()?;
/// assert_eq!(llm.name(), "azure-openai");
/// assert!(!format!("{llm:?}").contains("example-key"));
/// # Ok(())
/// # }
/// ```
pub type AzureOpenAiProvider = Provider<AzureOpenAi>;

/// Builds an [`AzureOpenAiProvider`].
pub type AzureOpenAiProviderBuilder = ProviderBuilder<AzureOpenAi>;

/// What the `azure-openai` provider is.
pub(crate) static DESCRIPTION: Description = Description {
    name: "azure-openai",
    type_name: "AzureOpenAiProvider",
    default_base_url: "https://YOUR-RESOURCE.openai.azure.com",
    base_url_name: "endpoint",
    default_model: "gpt-4o-mini",
    base_url_vars: &["AZURE_OPENAI_ENDPOINT"],
    key_vars: &["AZURE_OPENAI_API_KEY"],
    key_header: KeyHeader::Named("api-key"),
    other_keys: &[("AZURE_OPENAI_AD_TOKEN", KeyHeader::Bearer)],
    key_required: true,
    default_headers: &[],
    example_base_urls: "https://my-resource.openai.azure.com",
    unreachable_hint: Some(
        "Check that AZURE_OPENAI_ENDPOINT (or the endpoint you set) is your resource's, \
         https://NAME.openai.azure.com",
    ),
    prices: Some(PriceTable::openai),
    free: false,
};

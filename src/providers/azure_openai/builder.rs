//! The settings only the `azure-openai` provider has, and their setters on its builder
//! (the settings every provider has are [`ProviderBuilder`]'s own).

use crate::kit::{KeyHeader, ProviderBuilder};

use super::AzureOpenAi;

/// The settings only [`AzureOpenAiProvider`](super::AzureOpenAiProvider) has.
#[derive(Debug, Clone, Default)]
pub struct AzureSettings {
    pub(crate) api_version: Option<String>,
}

impl ProviderBuilder<AzureOpenAi> {
    /// The `api-version` every request names (default
    /// [`DEFAULT_API_VERSION`](super::DEFAULT_API_VERSION), or `AZURE_OPENAI_API_VERSION`).
    #[must_use]
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.own.api_version = Some(version.into());
        self
    }

    /// Authenticate with a Microsoft Entra ID (Azure AD) token, sent as
    /// `Authorization: Bearer`, instead of the resource's key; it is kept out of every
    /// message like a key. (`AZURE_OPENAI_AD_TOKEN` from the environment.)
    #[must_use]
    pub fn ad_token(mut self, token: impl Into<String>) -> Self {
        self.api_key = Some(token.into());
        self.key_as = Some((KeyHeader::Bearer, "AZURE_OPENAI_AD_TOKEN"));
        self
    }
}

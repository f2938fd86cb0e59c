//! The settings only the `bedrock` provider has (its region, its AWS credentials), and
//! their setters on its builder (the settings every provider has are
//! [`ProviderBuilder`]'s own).

use std::fmt;

use crate::kit::ProviderBuilder;

use super::sigv4::Credentials;
use super::Converse;

/// The settings only [`BedrockProvider`](super::BedrockProvider) has.
#[derive(Clone, Default)]
pub struct BedrockSettings {
    pub(crate) region: Option<String>,
    pub(crate) access_key: Option<(String, String)>,
    pub(crate) session_token: Option<String>,
}

impl fmt::Debug for BedrockSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BedrockSettings")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key.as_ref().map(|(id, _)| id))
            .field(
                "secret_access_key",
                &self.access_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

impl BedrockSettings {
    /// The AWS credentials, if an access key was given.
    pub(crate) fn credentials(&self) -> Option<Credentials> {
        let (id, secret) = self.access_key.as_ref()?;
        Some(Credentials {
            access_key_id: id.trim().to_owned(),
            secret_access_key: secret.trim().to_owned(),
            session_token: self
                .session_token
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        })
    }
}

impl ProviderBuilder<Converse> {
    /// The AWS region (default: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else
    /// `us-east-1`): where requests go unless a base URL is set, and what they are
    /// signed for.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.own.region = Some(region.into());
        self
    }

    /// Sign requests with this AWS access key (SigV4), unless an API key is set
    /// ([`api_key`](ProviderBuilder::api_key): a Bedrock API key, sent as a bearer
    /// token). The secret key is never shown in `Debug`, logs or errors.
    #[must_use]
    pub fn aws_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.own.access_key = Some((access_key_id.into(), secret_access_key.into()));
        self
    }

    /// The session token of temporary AWS credentials (`AWS_SESSION_TOKEN`), sent as
    /// `x-amz-security-token` and signed. Never shown.
    #[must_use]
    pub fn aws_session_token(mut self, token: impl Into<String>) -> Self {
        self.own.session_token = Some(token.into());
        self
    }
}

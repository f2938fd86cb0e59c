//! [`FallbackProvider`]: an ordered chain of (provider, model) that moves to the next
//! entry when one fails before any output, and never after.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures::Stream;

use crate::chunk::Chunk;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::LlmStreamProvider;
use crate::request::{ChatRequest, Timeouts};
use crate::route::{Attempt, Route};
use crate::stream::{ChatStream, StreamInfo};

/// The error kinds that move a chain to its next entry by default: those another
/// provider might not have. An entry retries by itself first (as its own retry policy
/// says); its error reaches the chain only when it gives up.
pub const DEFAULT_FALLBACK_KINDS: &[ErrorKind] = &[
    ErrorKind::ProviderUnavailable,
    ErrorKind::Network,
    ErrorKind::Timeout,
    ErrorKind::Server,
    ErrorKind::RateLimited,
    ErrorKind::ModelNotFound,
];

/// One entry of a chain: a provider and the model to ask of it.
#[derive(Clone)]
struct Entry {
    provider: Arc<dyn LlmStreamProvider>,
    /// `None`: the provider's default model.
    model: Option<String>,
}

impl Entry {
    /// The model this entry asks for. The request's own model is not used: a model
    /// name means something to one provider only, so the entries name theirs.
    fn model(&self) -> String {
        self.model
            .clone()
            .unwrap_or_else(|| self.provider.default_model().to_owned())
    }
}

/// A provider made of an ordered list of (provider, model): a request goes to the first
/// entry; when it fails with an error another provider might not have (by default:
/// unavailable, network, timeout, server error, a rate limit it would not wait for,
/// model not found) *before any output was delivered*, the next entry gets the request.
/// After the first text, reasoning, refusal or tool call, an error surfaces as it is:
/// the user never sees a reply start twice.
///
/// The reply says which entry answered ([`ChatReply::provider`](crate::ChatReply::provider),
/// [`model`](crate::ChatReply::model)), lists the entries that failed first
/// ([`ChatReply::attempts`](crate::ChatReply::attempts)), and its usage and cost are the
/// answering entry's. When the chain gives up, the error is the last entry's, its
/// message lists the others, and [`Error::attempts`] has every entry tried, each with
/// its own error.
///
/// Time limits (the request's [`Timeouts`], else each provider's own) apply to each
/// entry: an entry that times out before any output moves the chain on, and the next
/// entry gets its limits afresh. To bound the whole chain, wrap the call in a timeout of
/// your own.
///
/// ```
/// use theory_llm::{ErrorKind, LlmStreamProvider, MockProvider};
/// use theory_llm::routing::FallbackProvider;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let down = MockProvider::builder()
///     .fail_after(0, ErrorKind::ProviderUnavailable, "primary is down")
///     .build();
/// let backup = MockProvider::builder().reply("Hello from the backup.").build();
/// let llm = FallbackProvider::builder()
///     .entry(down, Some("big-model"))
///     .entry(backup, None)
///     .build()?;
/// let reply = llm.chat("Hi".into()).await?;
/// assert_eq!(reply.text, "Hello from the backup.");
/// assert_eq!(reply.attempts.len(), 1);
/// assert_eq!(reply.attempts[0].model, "big-model");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct FallbackProvider {
    entries: Arc<[Entry]>,
    kinds: Arc<[ErrorKind]>,
}

impl fmt::Debug for FallbackProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self
            .entries
            .iter()
            .map(|e| match &e.model {
                Some(model) => format!("{}={model}", e.provider.name()),
                None => e.provider.name().to_owned(),
            })
            .collect();
        f.debug_struct("FallbackProvider")
            .field("entries", &entries)
            .field("falls_back_on", &self.kinds)
            .finish()
    }
}

/// Builds a [`FallbackProvider`].
#[derive(Default)]
pub struct FallbackProviderBuilder {
    entries: Vec<Entry>,
    kinds: Option<Vec<ErrorKind>>,
}

impl fmt::Debug for FallbackProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackProviderBuilder")
            .field("entries", &self.entries.len())
            .field("kinds", &self.kinds)
            .finish()
    }
}

impl FallbackProviderBuilder {
    /// Adds an entry: `provider`, asked for `model` (`None`: the provider's default
    /// model; a request's own model is not used, since a model name means something to
    /// one provider only).
    #[must_use]
    pub fn entry(
        mut self,
        provider: impl LlmStreamProvider + 'static,
        model: Option<&str>,
    ) -> FallbackProviderBuilder {
        self.entries.push(Entry {
            provider: Arc::new(provider),
            model: model.map(str::to_owned),
        });
        self
    }

    /// Adds an entry of a provider already shared (a boxed one from the
    /// [`Registry`](crate::Registry), say).
    #[must_use]
    pub fn shared_entry(
        mut self,
        provider: Arc<dyn LlmStreamProvider>,
        model: Option<&str>,
    ) -> FallbackProviderBuilder {
        self.entries.push(Entry {
            provider,
            model: model.map(str::to_owned),
        });
        self
    }

    /// The error kinds that move the chain on (default [`DEFAULT_FALLBACK_KINDS`]).
    #[must_use]
    pub fn fall_back_on(mut self, kinds: impl IntoIterator<Item = ErrorKind>) -> Self {
        self.kinds = Some(kinds.into_iter().collect());
        self
    }

    /// The chain.
    ///
    /// # Errors
    /// `invalid_request` for a chain without entries.
    pub fn build(self) -> Result<FallbackProvider> {
        if self.entries.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "fallback: a chain needs at least one entry",
            ));
        }
        Ok(FallbackProvider {
            entries: self.entries.into(),
            kinds: self
                .kinds
                .unwrap_or_else(|| DEFAULT_FALLBACK_KINDS.to_vec())
                .into(),
        })
    }
}

impl FallbackProvider {
    /// The provider's name.
    pub const NAME: &'static str = "fallback";

    /// A builder.
    pub fn builder() -> FallbackProviderBuilder {
        FallbackProviderBuilder::default()
    }
}

impl LlmStreamProvider for FallbackProvider {
    fn name(&self) -> &str {
        FallbackProvider::NAME
    }

    /// The first entry's model.
    fn default_model(&self) -> &str {
        let first = &self.entries[0];
        first
            .model
            .as_deref()
            .unwrap_or_else(|| first.provider.default_model())
    }

    /// The first entry's, for its model: what a chain that answers at once is.
    fn stream_info(&self, request: &ChatRequest) -> StreamInfo {
        let first = &self.entries[0];
        let mut request = request.clone();
        request.model = Some(first.model());
        first.provider.stream_info(&request)
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let first = &self.entries[0];
        let model = first.model();
        // The stream's own info is the first entry's; the finish says which answered.
        // Time limits are each entry's (each gets the request with them): were the chain's
        // own stream to apply them too, it would end the chain with `timeout` at the
        // moment an entry timed out, rather than move on.
        let info = StreamInfo::for_request(first.provider.name(), &request, &model)
            .with_timeouts(Timeouts::default());
        let chain = Chain {
            entries: self.entries.clone(),
            kinds: self.kinds.clone(),
            request,
            next: 0,
            current: None,
            delivered: false,
            attempts: Vec::new(),
        };
        ChatStream::new(info, chain)
    }
}

/// The entry being tried: its stream, and what the finish will say about it.
struct Current {
    stream: ChatStream,
    provider: String,
    model: String,
}

/// The chain's stream: one entry's stream at a time.
struct Chain {
    entries: Arc<[Entry]>,
    kinds: Arc<[ErrorKind]>,
    request: ChatRequest,
    /// The entry to try next.
    next: usize,
    current: Option<Current>,
    /// Output has been passed on: no more moving on.
    delivered: bool,
    attempts: Vec<Attempt>,
}

impl Chain {
    /// Starts the next entry, if there is one.
    fn start_next(&mut self) -> bool {
        let Some(entry) = self.entries.get(self.next) else {
            return false;
        };
        self.next += 1;
        let model = entry.model();
        let mut request = self.request.clone();
        request.model = Some(model.clone());
        self.current = Some(Current {
            stream: entry.provider.stream_chat(request),
            provider: entry.provider.name().to_owned(),
            model,
        });
        true
    }

    /// The final error: the last entry's, naming the ones before in its message, and
    /// carrying every entry tried ([`Error::attempts`]).
    fn give_up(&mut self, error: Error) -> Error {
        let Some(current) = self.current.take() else {
            return error;
        };
        let before = std::mem::take(&mut self.attempts);
        let last = Attempt::new(
            current.provider,
            current.model,
            error.kind(),
            error.message(),
        );
        let error = if before.is_empty() {
            error
        } else {
            let listed: Vec<String> = before
                .iter()
                .map(|a| format!("{}={}: {} ({})", a.provider, a.model, a.kind, a.message))
                .collect();
            error.suffix(&format!(
                " [fallback: every entry failed; before this one: {}]",
                listed.join("; ")
            ))
        };
        let mut attempts = before;
        attempts.push(last);
        error.with_attempts(attempts)
    }
}

impl Stream for Chain {
    type Item = Result<Chunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.current.is_none() && !this.start_next() {
                return Poll::Ready(None);
            }
            let Some(current) = this.current.as_mut() else {
                return Poll::Ready(None);
            };
            let item = ready!(Pin::new(&mut current.stream).poll_next(cx));
            match item {
                Some(Ok(Chunk::Finish(mut finish))) => {
                    let Some(current) = this.current.take() else {
                        return Poll::Ready(None);
                    };
                    finish.route = Some(Box::new(Route {
                        provider: current.provider,
                        model: current.model,
                        pricing: current.stream.info().pricing(),
                        attempts: std::mem::take(&mut this.attempts),
                    }));
                    return Poll::Ready(Some(Ok(Chunk::Finish(finish))));
                }
                Some(Ok(chunk)) => {
                    this.delivered = true;
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Some(Err(error)) => {
                    let more = this.next < this.entries.len();
                    if this.delivered || !more || !this.kinds.contains(&error.kind()) {
                        this.next = this.entries.len();
                        let error = this.give_up(error);
                        return Poll::Ready(Some(Err(error)));
                    }
                    if let Some(current) = this.current.take() {
                        this.attempts.push(Attempt::new(
                            current.provider,
                            current.model,
                            error.kind(),
                            error.message(),
                        ));
                    }
                    #[cfg(feature = "tracing")]
                    tracing::info!(
                        target: "theory_llm",
                        next_entry = this.next,
                        error.type = error.kind().as_str(),
                        error.message = error.message(),
                        "falling back to the next entry"
                    );
                }
                // An entry's stream always ends with a finish or an error.
                None => {
                    this.current = None;
                }
            }
        }
    }
}

//! [`BudgetProvider`]: any provider, each request admitted by a [`Budget`] before it is
//! sent; and its stream, which waits for admission, then starts the inner provider's
//! stream (whose time limits start only then) and gives the grant back as it ends.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::time::Instant;

use crate::chunk::Chunk;
use crate::error::{Error, ErrorKind, Result};
use crate::pricing::{Pricing, TokenCounts};
use crate::provider::LlmStreamProvider;
use crate::rate_limit::RateLimit;
use crate::request::{ChatRequest, Timeouts};
use crate::stream::{ChatStream, StreamInfo};

use super::grant::{Grant, Meter};
use super::ledger::Amounts;
use super::limits::Metered;
use super::store::{Admission, Store};
use super::wait::{Admitted, Deadline};
use super::Budget;

/// The longest wait for admission of a request that has no first-chunk limit.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(120);
/// Tokens reserved for the reply of a request that sets no `max_tokens`.
pub const DEFAULT_REPLY_TOKENS: u64 = 1024;
/// The longest hold a server's rate-limit headers can put on a budget.
const MAX_HOLD: Duration = Duration::from_secs(24 * 3600);

/// A provider whose requests are admitted by a [`Budget`] before they are sent. See the
/// [module documentation](super) for what is counted, and how.
///
/// ```
/// use std::time::Duration;
/// use theory_llm::budget::{Budget, BudgetProvider};
/// use theory_llm::{LlmStreamProvider, MockProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let budget = Budget::new("requests=2/s,concurrent=1".parse()?);
/// let llm = BudgetProvider::new(MockProvider::new(), budget.clone())
///     .max_wait(Duration::from_secs(5));
/// let first = llm.chat("one".into()).await?;
/// assert_eq!(first.usage.waited_ms, 0.0);
/// let spent = budget.spent().await?;
/// assert_eq!((spent.streams, spent.windows[0].1), (0, 1)); // one request this second
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct BudgetProvider {
    inner: Arc<dyn LlmStreamProvider>,
    budget: Budget,
    max_wait: Option<Duration>,
    reply_tokens: u64,
}

impl fmt::Debug for BudgetProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BudgetProvider")
            .field("inner", &self.inner)
            .field("budget", &self.budget)
            .field("max_wait", &self.max_wait)
            .field("reply_tokens", &self.reply_tokens)
            .finish()
    }
}

impl BudgetProvider {
    /// `inner`, under `budget` (clone a budget to share it between providers).
    pub fn new(inner: impl LlmStreamProvider + 'static, budget: Budget) -> BudgetProvider {
        BudgetProvider::shared(Arc::new(inner), budget)
    }

    /// A provider already shared (a boxed one from the [`Registry`](crate::Registry)),
    /// under `budget`.
    pub fn shared(inner: Arc<dyn LlmStreamProvider>, budget: Budget) -> BudgetProvider {
        BudgetProvider {
            inner,
            budget,
            max_wait: None,
            reply_tokens: DEFAULT_REPLY_TOKENS,
        }
    }

    /// The longest a request waits for admission; past it, it fails with
    /// [`ErrorKind::RateLimited`] and, when the budget knows, a
    /// [`retry_after`](Error::retry_after). Default: the request's first-chunk limit
    /// (else [`DEFAULT_MAX_WAIT`]). The wait never counts against the request's own
    /// time limits, which start when it is sent.
    #[must_use]
    pub fn max_wait(mut self, limit: Duration) -> BudgetProvider {
        self.max_wait = Some(limit);
        self
    }

    /// Tokens reserved for the reply of a request that sets no `max_tokens` (default
    /// [`DEFAULT_REPLY_TOKENS`]); the reservation is settled at the real count when the
    /// reply ends.
    #[must_use]
    pub fn reply_tokens(mut self, tokens: u64) -> BudgetProvider {
        self.reply_tokens = tokens;
        self
    }

    /// The budget.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// What `request` reserves: its prompt's estimate plus its `max_tokens`, priced.
    fn reservation(&self, request: &ChatRequest, info: &StreamInfo) -> Result<(Amounts, Meter)> {
        let prompt = info.prompt_tokens_estimate();
        let reply = request.max_tokens.map_or(self.reply_tokens, u64::from);
        let pricing = info.pricing();
        if pricing == Pricing::Unknown && self.budget.limits().meters(Metered::UsdMicros) {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "budget: it limits money, but the {} model '{}' has no known price; set one on the provider (price), or budget tokens instead",
                    info.provider(),
                    info.model()
                ),
            ));
        }
        let counts = TokenCounts::new(prompt, reply);
        let ask = Amounts {
            tokens: prompt.saturating_add(reply),
            usd_micros: pricing.cost(&counts),
        };
        let meter = Meter {
            prompt_tokens: prompt,
            pricing,
        };
        Ok((ask, meter))
    }
}

impl LlmStreamProvider for BudgetProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn default_model(&self) -> &str {
        self.inner.default_model()
    }

    fn stream_info(&self, request: &ChatRequest) -> StreamInfo {
        self.inner.stream_info(request)
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let info = self.inner.stream_info(&request);
        // The inner stream applies the request's limits, from when it is sent.
        let outer = info.clone().with_timeouts(Timeouts::default());
        // A request the provider would refuse takes nothing from the budget.
        let reservation = request
            .validate()
            .and_then(|()| self.reservation(&request, &info));
        let (ask, meter) = match reservation {
            Ok(reservation) => reservation,
            Err(error) => return ChatStream::from_error(outer, error),
        };
        let wait = self
            .max_wait
            .or(info.timeouts().first_chunk)
            .unwrap_or(DEFAULT_MAX_WAIT);
        let budgeted = Budgeted {
            phase: Phase::Start,
            store: self.budget.store.clone(),
            inner: self.inner.clone(),
            request: Some(request),
            ask,
            meter,
            wait,
            waited: Duration::ZERO,
        };
        ChatStream::new(outer, budgeted)
    }
}

enum Phase {
    /// Not polled yet: the wait starts at the first poll.
    Start,
    /// Since when.
    Waiting(Admission, Instant),
    /// Sent (the stream boxed: a `ChatStream` is large, the other phases small).
    Running(Box<ChatStream>, Grant),
    Done,
}

/// The stream of a budgeted request.
struct Budgeted {
    phase: Phase,
    store: Store,
    inner: Arc<dyn LlmStreamProvider>,
    request: Option<ChatRequest>,
    ask: Amounts,
    meter: Meter,
    wait: Duration,
    waited: Duration,
}

impl Budgeted {
    /// What the server's answer says of the budget: a quota used up until a reset
    /// (`remaining: 0`), or a 429 that says when to come back, holds every request.
    fn heed(&self, limits: Option<&RateLimit>, retry_after: Option<Duration>) {
        let used_up = limits.into_iter().flat_map(|l| {
            [l.requests, l.tokens, l.input_tokens, l.output_tokens]
                .into_iter()
                .filter(|q| q.remaining == Some(0))
                .filter_map(|q| q.reset)
        });
        if let Some(wait) = used_up.chain(retry_after).max() {
            self.store.hold(wait.min(MAX_HOLD));
        }
    }

    /// Admitted: the inner stream starts now.
    fn start(&mut self, admitted: Admitted, since: Instant) -> Phase {
        self.waited = if admitted.waited {
            since.elapsed()
        } else {
            Duration::ZERO
        };
        let store = admitted.ticket.map(|_| self.store.clone());
        let grant = Grant::new(store, admitted.ticket.unwrap_or(0), self.meter);
        let request = self.request.take().unwrap_or_default();
        Phase::Running(Box::new(self.inner.stream_chat(request)), grant)
    }
}

impl Stream for Budgeted {
    type Item = Result<Chunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Chunk>>> {
        let this = &mut *self;
        loop {
            match &mut this.phase {
                Phase::Start => {
                    let admission = this.store.admit(this.ask, Deadline::new(this.wait));
                    this.phase = Phase::Waiting(admission, Instant::now());
                }
                Phase::Waiting(admission, since) => {
                    let since = *since;
                    match ready!(Pin::new(admission).poll(cx)) {
                        Ok(admitted) => this.phase = this.start(admitted, since),
                        Err(error) => {
                            this.phase = Phase::Done;
                            return Poll::Ready(Some(Err(error)));
                        }
                    }
                }
                Phase::Running(stream, grant) => {
                    let item = ready!(Pin::new(&mut **stream).poll_next(cx));
                    match item {
                        Some(Ok(Chunk::Finish(mut finish))) => {
                            let Phase::Running(_, grant) =
                                std::mem::replace(&mut this.phase, Phase::Done)
                            else {
                                return Poll::Ready(None);
                            };
                            grant.finish(&finish);
                            this.heed(finish.rate_limit.as_ref(), None);
                            finish.waited = Some(this.waited);
                            return Poll::Ready(Some(Ok(Chunk::Finish(finish))));
                        }
                        Some(Ok(chunk)) => {
                            grant.observe(&chunk);
                            return Poll::Ready(Some(Ok(chunk)));
                        }
                        Some(Err(error)) => {
                            // The grant ends now, at what was seen.
                            this.phase = Phase::Done;
                            let retry_after =
                                error.retry_after().filter(|_| error.status() == Some(429));
                            this.heed(error.rate_limit(), retry_after);
                            return Poll::Ready(Some(Err(error)));
                        }
                        None => {
                            this.phase = Phase::Done;
                            return Poll::Ready(None);
                        }
                    }
                }
                Phase::Done => return Poll::Ready(None),
            }
        }
    }
}

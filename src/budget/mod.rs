//! Budgets: requests, tokens, streams at once and money per period, for one process or,
//! through Redis (feature `redis`), for every process that shares a key.
//!
//! A [`BudgetProvider`] wraps any provider (an endpoint pool, a
//! [`FallbackProvider`](crate::routing::FallbackProvider) chain, or one entry of a chain)
//! and admits each request against a [`Budget`] before sending it:
//!
//! - **What is counted.** One request; tokens, reserved as the prompt's estimate plus
//!   `max_tokens` (or [`DEFAULT_REPLY_TOKENS`]), and micro-USD, that reservation at the
//!   provider's prices; and one stream, while it lives. When the reply finishes, its
//!   reservation becomes what it used (the counts it reported); a stream that fails, is
//!   cancelled or is dropped is settled at what was seen (the prompt if anything came
//!   back, the output delivered) and its stream released at once.
//! - **Windows slide.** `requests=5/s` means no span of one second ever holds more than 5
//!   requests, whatever its start.
//! - **Waiting.** A request the budget has no room for waits, in arrival order, up to
//!   its wait limit ([`BudgetProvider::max_wait`]; by default the request's first-chunk
//!   limit); past it, it fails with [`ErrorKind::RateLimited`](crate::ErrorKind) and a
//!   [`retry_after`](crate::Error::retry_after) when the budget knows when it will have
//!   room. The wait never counts against the request's time limits: the inner
//!   provider's stream is made, and its clocks start, once it is admitted. The reply
//!   says how long it waited ([`Usage::waited_ms`](crate::Usage::waited_ms)).
//! - **The server's word.** A response that reports a quota used up (`remaining: 0`
//!   with a reset, in the rate-limit headers the crate reads) or a 429 that says when to
//!   come back holds every request of the budget until then.
//!
//! ```
//! use theory_llm::budget::{Budget, BudgetProvider, Limits};
//! use theory_llm::{LlmStreamProvider, MockProvider};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> theory_llm::Result<()> {
//! let limits: Limits = "requests=60/m,tokens=40000/m,concurrent=4".parse()?;
//! let llm = BudgetProvider::new(MockProvider::new(), Budget::new(limits));
//! let reply = llm.chat("Hello".into()).await?;
//! assert_eq!(reply.usage.waited_ms, 0.0);
//! # Ok(())
//! # }
//! ```
//!
//! Files: `limits.rs` (what a budget allows, and its spec), `ledger.rs` (the books, a
//! pure state machine), `local.rs` (the books in this process), `store.rs` (where the
//! books are), `wait.rs` (the wait limit and its errors), `grant.rs` (an admitted
//! request's share, given back however its stream ends), `provider.rs` (the wrapper and
//! its stream), `redis/` (the books on a Redis server).

mod grant;
mod ledger;
mod limits;
mod local;
mod provider;
#[cfg(feature = "redis")]
mod redis;
mod store;
mod wait;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;

pub use ledger::Spent;
pub use limits::{Limits, Metered, Rate};
pub use provider::{BudgetProvider, DEFAULT_MAX_WAIT, DEFAULT_REPLY_TOKENS};
#[cfg(feature = "redis")]
pub use redis::{RedisBudget, DEFAULT_LEASE, DEFAULT_REDIS_TIMEOUT};

use local::Local;
use store::Store;

/// A budget: [`Limits`] and the books that keep them. Clone it to share it: every
/// [`BudgetProvider`] given a clone draws on the same budget.
///
/// [`Budget::new`] keeps the books in this process; `RedisBudget` (feature `redis`)
/// keeps them on a Redis server, shared by every process that uses the same key.
#[derive(Clone)]
pub struct Budget {
    store: Store,
    limits: Arc<Limits>,
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = match &self.store {
            Store::Local(_) => "in this process".to_owned(),
            #[cfg(feature = "redis")]
            Store::Redis(remote) => format!("{remote:?}"),
        };
        f.debug_struct("Budget")
            .field("limits", &self.limits.to_string())
            .field("kept", &kept)
            .finish()
    }
}

impl Budget {
    /// A budget kept in this process.
    pub fn new(limits: Limits) -> Budget {
        Budget {
            store: Store::Local(Arc::new(Local::new(&limits))),
            limits: Arc::new(limits),
        }
    }

    /// Its limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Admits nothing for `wait` (at most a day): what a budget does by itself when a
    /// server says its quota is used up; for an app that learns it another way.
    pub fn hold(&self, wait: Duration) {
        self.store.hold(wait.min(Duration::from_secs(24 * 3600)));
    }

    /// What the budget holds now: streams alive, and each window's sum.
    ///
    /// # Errors
    /// For a shared budget, `provider_unavailable` when Redis cannot be reached.
    pub async fn spent(&self) -> Result<Spent> {
        self.store.spent().await
    }
}

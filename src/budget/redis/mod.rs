//! [`RedisBudget`]: a budget whose books are kept on a Redis server (feature `redis`),
//! shared by every process that uses the same key. Files: `budget.lua` (the books, one
//! atomic script per operation on the server's clock), `conn.rs` (the connection that
//! runs it), `remote.rs` (this process's side of the books), `keeper.rs` (what runs
//! beside the requests: ends, holds and lease renewals sent in the background, and the
//! wake-ups of waiters).

mod conn;
mod keeper;
mod remote;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

use super::limits::Limits;
use super::store::Store;
use super::Budget;

pub(crate) use remote::Remote;

/// How long a stream's slot (or a waiter's place in line) lasts without renewal, by
/// default: a process that dies gives its slots back within this.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5);
/// The longest a command to Redis may take, by default.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// A budget shared through a Redis server: every process (on any machine) that uses the
/// same Redis and the same key shares one budget.
///
/// Each decision is one script run on the server (no process reads the books and then
/// writes them), timed by the server's clock (`TIME`), not the machines'. A stream's
/// slot is a lease, renewed while the stream lives: the slots of a process that dies
/// come back within the lease ([`DEFAULT_LEASE`]). Waiters are admitted in arrival
/// order across processes, and woken by a publish when the books change. Redis 6 or
/// later.
///
/// When Redis cannot be reached, requests fail with
/// [`ErrorKind::ProviderUnavailable`] and a message that names Redis; with
/// [`fail_open`](Self::fail_open) they are admitted without the budget instead.
/// Processes sharing a key should give it the same limits: each enforces its own
/// against the shared books.
///
/// ```no_run
/// use theory_llm::budget::{BudgetProvider, RedisBudget};
/// use theory_llm::{LlmStreamProvider, MockProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let budget = RedisBudget::new("redis://127.0.0.1:6379/0", "openai-prod", "requests=500/m,concurrent=8".parse()?)
///     .connect()
///     .await?;
/// let llm = BudgetProvider::new(MockProvider::new(), budget);
/// llm.chat("Hello".into()).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisBudget {
    url: String,
    key: String,
    limits: Limits,
    fail_open: bool,
    lease: Duration,
    timeout: Duration,
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("url", &shown(&self.url))
            .field("key", &self.key)
            .field("limits", &self.limits.to_string())
            .field("fail_open", &self.fail_open)
            .field("lease", &self.lease)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisBudget {
    /// The budget `key` on the Redis server at `url` (`redis://[:password@]host:port/db`;
    /// TLS, `rediss://`, is not built in), with `limits`.
    pub fn new(url: impl Into<String>, key: impl Into<String>, limits: Limits) -> RedisBudget {
        RedisBudget {
            url: url.into(),
            key: key.into(),
            limits,
            fail_open: false,
            lease: DEFAULT_LEASE,
            timeout: DEFAULT_REDIS_TIMEOUT,
        }
    }

    /// When Redis cannot be reached, admit requests without the budget (and say so in
    /// the logs, with the `tracing` feature) rather than fail them. Off by default.
    #[must_use]
    pub fn fail_open(mut self, open: bool) -> RedisBudget {
        self.fail_open = open;
        self
    }

    /// How long a stream's slot lasts without renewal (default [`DEFAULT_LEASE`]; at
    /// least 300 ms). Renewed every third of it while the stream lives.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> RedisBudget {
        self.lease = lease.max(Duration::from_millis(300));
        self
    }

    /// The longest a command to Redis may take, connecting included (default
    /// [`DEFAULT_REDIS_TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> RedisBudget {
        self.timeout = limit;
        self
    }

    /// Connects, and starts what renews this process's leases (on the current tokio
    /// runtime, which must be running).
    ///
    /// # Errors
    /// `invalid_request` for a URL that is not a Redis URL; `provider_unavailable`,
    /// naming Redis, when it cannot be reached (unless the budget fails open).
    pub async fn connect(self) -> Result<Budget> {
        let shown = shown(&self.url);
        let client = redis::Client::open(self.url.as_str()).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "budget: '{shown}' is not a Redis URL ({}): write redis://host:port/db",
                    scrub(&e.to_string(), &self.url)
                ),
            )
        })?;
        let remote = Remote::connect(client, self.clone(), shown).await?;
        Ok(Budget {
            store: Store::Redis(Arc::new(remote)),
            limits: Arc::new(self.limits),
        })
    }
}

/// `url` with any password replaced by `***`.
fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(a URL that does not parse)".to_owned(),
    }
}

/// `text` without the password of `url`, should a message quote it.
fn scrub(text: &str, url: &str) -> String {
    match reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        Some(password) if !password.is_empty() => text.replace(&password, "***"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let url = "redis://:hunter2@127.0.0.1:6379/0";
        assert_eq!(shown(url), "redis://:***@127.0.0.1:6379/0");
        assert_eq!(scrub("auth failed for hunter2", url), "auth failed for ***");
        let budget = RedisBudget::new(url, "k", Limits::new());
        assert!(!format!("{budget:?}").contains("hunter2"));
        assert_eq!(shown("not a url"), "(a URL that does not parse)");
    }
}

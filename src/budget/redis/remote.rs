//! [`Remote`]: this process's side of a budget kept on a Redis server: the script
//! calls (`budget.lua`), waiting in line, and what fails when Redis cannot be reached.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

use crate::error::{Error, ErrorKind, Result};

use super::super::ledger::{Amounts, Spent};
use super::super::limits::Metered;
use super::super::wait::{too_large, waited_too_long, Admitted, Deadline};
use super::conn::Conn;
use super::keeper::{keep, listen, Keeper};
use super::{scrub, RedisBudget};

/// The longest a waiter sleeps before it asks again, when no publish wakes it (a
/// lost message, a listener reconnecting).
const POLL: Duration = Duration::from_millis(250);

/// This process's side of a shared budget.
pub(crate) struct Remote {
    conn: Arc<Conn>,
    keeper: Arc<Keeper>,
    /// The URL as shown (no password), and as given (to scrub messages of it).
    shown: String,
    url: String,
    key: String,
    concurrent: i64,
    fail_open: bool,
    rates: Vec<super::super::limits::Rate>,
    /// Tickets are this number (unique to this process on the server) and a counter.
    client: u64,
    next: AtomicU32,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "on Redis at {}, key {:?}", self.shown, self.key)
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.keeper.close();
    }
}

fn kind(what: Metered) -> &'static str {
    match what {
        Metered::Requests => "r",
        Metered::Tokens => "t",
        Metered::UsdMicros => "u",
    }
}

impl Remote {
    /// Connects (checking that Redis answers), and starts the keeper and the listener.
    pub(crate) async fn connect(
        client: redis::Client,
        config: RedisBudget,
        shown: String,
    ) -> Result<Remote> {
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager)
            .map_err(|e| unreachable_error(&shown, &scrub(&e.to_string(), &config.url)))?;
        let windows = config
            .limits
            .rates()
            .iter()
            .flat_map(|r| {
                [
                    kind(r.what).to_owned(),
                    r.period_ms().to_string(),
                    r.amount.to_string(),
                ]
            })
            .collect();
        let prefix = format!("theory-llm:budget:{{{}}}", config.key);
        let conn = Arc::new(Conn::new(
            conn,
            prefix.clone(),
            windows,
            config.lease,
            config.timeout,
        ));
        let client_number = match conn.call::<u64>("client", &[]).await {
            Ok(n) => n,
            Err(e) if config.fail_open => {
                fail_open_note(&shown, &e.to_string());
                // Unique enough for a process that will retry Redis later.
                std::hash::BuildHasher::hash_one(
                    &std::collections::hash_map::RandomState::new(),
                    std::process::id(),
                ) >> 32
            }
            Err(e) => {
                return Err(unreachable_error(
                    &shown,
                    &scrub(&e.to_string(), &config.url),
                ))
            }
        };
        let keeper = Arc::new(Keeper::default());
        tokio::spawn(keep(conn.clone(), keeper.clone()));
        tokio::spawn(listen(client, format!("{prefix}:wake"), keeper.clone()));
        Ok(Remote {
            conn,
            keeper,
            shown,
            url: config.url,
            key: config.key,
            concurrent: config.limits.concurrent_streams().map_or(-1, i64::from),
            fail_open: config.fail_open,
            rates: config.limits.rates().to_vec(),
            client: client_number,
            next: AtomicU32::new(0),
        })
    }

    fn unreachable(&self, error: &redis::RedisError) -> Error {
        unreachable_error(&self.shown, &scrub(&error.to_string(), &self.url))
    }

    /// Waits for admission of `ask`, in line with every process of the budget, until
    /// `deadline`. `None`: admitted without the books (Redis unreachable, failing open).
    pub(crate) async fn admit(
        self: Arc<Remote>,
        ask: Amounts,
        deadline: Deadline,
    ) -> Result<Admitted> {
        let counter = self.next.fetch_add(1, Ordering::Relaxed);
        let ticket = (self.client << 32) | u64::from(counter);
        let mut place = Place {
            keeper: self.keeper.clone(),
            ticket,
            held: true,
        };
        let args = [ticket, ask.tokens, ask.usd_micros]
            .map(|n| n.to_string())
            .into_iter()
            .chain([self.concurrent.to_string()])
            .collect::<Vec<_>>();
        let mut deadline = deadline;
        let mut waited = false;
        loop {
            let changed = self.keeper.books_changed.notified();
            let mut changed = pin!(changed);
            changed.as_mut().enable();
            let answer = match self.conn.call::<Vec<i64>>("admit", &args).await {
                Ok(answer) => answer,
                Err(e) if self.fail_open => {
                    fail_open_note(&self.shown, &e.to_string());
                    return Ok(Admitted {
                        ticket: None,
                        waited,
                    });
                }
                Err(e) => return Err(self.unreachable(&e)),
            };
            let retry_in = answer
                .get(1)
                .and_then(|&ms| u64::try_from(ms).ok())
                .map(Duration::from_millis);
            match answer.first() {
                Some(1) => {
                    place.held = false;
                    self.keeper.admitted(ticket);
                    return Ok(Admitted {
                        ticket: Some(ticket),
                        waited,
                    });
                }
                Some(2) => {
                    place.held = false;
                    return Err(too_large(&self.too_large_why(answer.get(1), ask)));
                }
                _ => {}
            }
            waited = true;
            let held = answer.get(2) == Some(&1);
            if held && retry_in.is_some_and(|wait| Instant::now() + wait > deadline.at) {
                return Err(waited_too_long(&deadline, retry_in));
            }
            // Ask again when the books change, when the windows will have room, and
            // often enough to keep the place in line.
            let pause = retry_in.unwrap_or(POLL).min(POLL).min(self.conn.lease / 3);
            let mut sleep = pin!(tokio::time::sleep(pause));
            let expired = std::future::poll_fn(|cx| {
                if deadline.poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
                if changed.as_mut().poll(cx).is_ready() || sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(false);
                }
                Poll::Pending
            })
            .await;
            if expired {
                return Err(waited_too_long(&deadline, retry_in));
            }
        }
    }

    fn too_large_why(&self, window: Option<&i64>, ask: Amounts) -> String {
        let rate = window
            .and_then(|&i| usize::try_from(i).ok())
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.rates.get(i));
        match rate {
            Some(rate) => format!(
                "the request needs {} {}, more than the budget's {} per {} ms",
                ask.of(rate.what),
                rate.what.as_str(),
                rate.amount,
                rate.period_ms()
            ),
            None => "the budget allows no streams (concurrent=0)".to_owned(),
        }
    }

    /// Ends grant `ticket` (sent by the keeper, at once).
    pub(crate) fn end(&self, ticket: u64, used: Amounts) {
        self.keeper.end(ticket, used);
    }

    /// Admits nothing, in every process, for `wait`.
    pub(crate) fn hold(&self, wait: Duration) {
        self.keeper
            .hold(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1));
    }

    /// What the budget holds now, as the server counts.
    pub(crate) async fn spent(&self) -> Result<Spent> {
        let sums = self
            .conn
            .call::<Vec<u64>>("spent", &[])
            .await
            .map_err(|e| self.unreachable(&e))?;
        Ok(Spent {
            streams: sums.first().copied().unwrap_or(0),
            windows: self
                .rates
                .iter()
                .copied()
                .zip(sums.into_iter().skip(1))
                .collect(),
        })
    }
}

/// A place in line, given up (by the keeper) if the waiter goes before it is admitted.
struct Place {
    keeper: Arc<Keeper>,
    ticket: u64,
    held: bool,
}

impl Drop for Place {
    fn drop(&mut self) {
        if self.held {
            self.keeper.leave(self.ticket);
        }
    }
}

fn unreachable_error(shown: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::ProviderUnavailable,
        format!(
            "budget: Redis at {shown} cannot be reached ({why}); the request is refused while the shared budget cannot be checked. Start Redis or fix the URL; or let requests through without the budget (RedisBudget::fail_open)"
        ),
    )
}

/// Says (with the `tracing` feature) that a request goes without the budget.
fn fail_open_note(shown: &str, why: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "theory_llm",
        redis = shown,
        error.message = why,
        "budget: Redis cannot be reached; admitting without the budget (fail open)"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (shown, why);
}

//! Safe retries: only before the first content has been delivered, so output is never
//! duplicated; exponential backoff with jitter; `Retry-After` honoured within a bound.

use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::future::Future;
use futures::stream::BoxStream;
use futures::Stream;
use tokio::time::Sleep;

use crate::chunk::Chunk;
use crate::error::{Error, ErrorKind, Result};
use crate::stream::fmt_duration;

/// When and how a request that failed before its first content is retried.
///
/// Retried: connection failures, HTTP 408, 429 (except a used-up quota), 500, 502, 503,
/// 504, and an error event that arrives before any text ([`Error::is_retryable`]).
/// Never retried once text or reasoning has been delivered.
///
/// ```
/// use std::time::Duration;
/// use theory_llm::RetryPolicy;
///
/// let policy = RetryPolicy::default().max_retries(4);
/// assert_eq!(policy.max_retries, 4);
/// assert_eq!(RetryPolicy::none().max_retries, 0);
/// // The n-th backoff before jitter: 0.5 s, 1 s, 2 s, ... capped at 8 s.
/// assert_eq!(policy.base_delay(1), Duration::from_millis(500));
/// assert_eq!(policy.base_delay(10), Duration::from_secs(8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2: at most 3 attempts).
    pub max_retries: u32,
    /// The first backoff (default 0.5 s); it doubles each retry.
    pub initial_backoff: Duration,
    /// The longest backoff (default 8 s).
    pub max_backoff: Duration,
    /// The longest `Retry-After` waited for (default 60 s); a server asking for more
    /// gets a `rate_limited` error that says when to retry.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of retries.
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> RetryPolicy {
        self.max_retries = retries;
        self
    }

    /// Sets the first backoff and the cap.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> RetryPolicy {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Sets the longest `Retry-After` the SDK waits by itself.
    #[must_use]
    pub fn max_retry_after(mut self, limit: Duration) -> RetryPolicy {
        self.max_retry_after = limit;
        self
    }

    /// The backoff before retry number `retry` (from 1), before jitter.
    pub fn base_delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The backoff with "equal jitter": half fixed, half random, so clients that failed
    /// together do not retry together.
    fn delay(&self, retry: u32, random: u64) -> Duration {
        let base = self.base_delay(retry);
        let half = base / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let extra = if jitter_nanos == 0 {
            0
        } else {
            random % (jitter_nanos + 1)
        };
        half + Duration::from_nanos(extra)
    }
}

/// A small xorshift generator for jitter; seeded per stream from the clock and an address.
#[derive(Debug)]
struct Jitter(u64);

impl Jitter {
    fn new(seed_hint: usize) -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Jitter((u64::from(nanos) ^ (seed_hint as u64).rotate_left(32)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

type Attempt = BoxStream<'static, Result<Chunk>>;

/// Runs attempts made by `make` until one delivers content or fails for good.
pub(crate) struct Retrying<F> {
    make: F,
    policy: RetryPolicy,
    provider: &'static str,
    state: RetryState,
    /// Attempts started so far.
    attempts: u32,
    /// Text or reasoning has reached the app: no retry from now on.
    delivered: bool,
    jitter: Jitter,
}

enum RetryState {
    /// Not started: the first poll makes the first attempt (the stream stays lazy).
    Idle,
    Running(Attempt),
    /// Waiting before the next attempt (no connection is held meanwhile).
    Backoff(Pin<Box<Sleep>>),
    Done,
}

impl<F> Retrying<F>
where
    F: FnMut() -> Attempt + Send + Unpin + 'static,
{
    pub(crate) fn new(provider: &'static str, policy: RetryPolicy, make: F) -> Retrying<F> {
        let seed_hint = &policy as *const RetryPolicy as usize;
        Retrying {
            make,
            policy,
            provider,
            state: RetryState::Idle,
            attempts: 0,
            delivered: false,
            jitter: Jitter::new(seed_hint),
        }
    }

    /// The error to give up with, saying how many attempts were made.
    fn give_up(&self, err: Error) -> Error {
        if self.attempts > 1 {
            err.suffix(&format!(" (gave up after {} attempts)", self.attempts))
        } else {
            err
        }
    }
}

impl<F> Stream for Retrying<F>
where
    F: FnMut() -> Attempt + Send + Unpin + 'static,
{
    type Item = Result<Chunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                RetryState::Done => return Poll::Ready(None),
                RetryState::Idle => {
                    this.attempts += 1;
                    this.state = RetryState::Running((this.make)());
                }
                RetryState::Backoff(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    this.attempts += 1;
                    this.state = RetryState::Running((this.make)());
                }
                RetryState::Running(attempt) => match ready!(attempt.as_mut().poll_next(cx)) {
                    Some(Ok(chunk)) => {
                        if matches!(chunk, Chunk::Text(_) | Chunk::Reasoning(_)) {
                            this.delivered = true;
                        }
                        return Poll::Ready(Some(Ok(chunk)));
                    }
                    None => {
                        this.state = RetryState::Done;
                        return Poll::Ready(None);
                    }
                    Some(Err(err)) => {
                        let retries_used = this.attempts.saturating_sub(1);
                        let may_retry = !this.delivered
                            && err.is_retryable()
                            && retries_used < this.policy.max_retries;
                        if !may_retry {
                            this.state = RetryState::Done;
                            let err = this.give_up(err);
                            return Poll::Ready(Some(Err(err)));
                        }
                        let delay = match err.retry_after() {
                            Some(asked) if asked > this.policy.max_retry_after => {
                                this.state = RetryState::Done;
                                let msg = format!(
                                    "{} asks to wait {} before retrying, longer than the {} this SDK waits by itself: retry after {}. (Server said: {err})",
                                    this.provider,
                                    fmt_duration(asked),
                                    fmt_duration(this.policy.max_retry_after),
                                    fmt_duration(asked),
                                );
                                let mut out =
                                    Error::new(ErrorKind::RateLimited, msg).with_retry_after(asked);
                                if let Some(status) = err.status() {
                                    out = out.with_status(status);
                                }
                                return Poll::Ready(Some(Err(out)));
                            }
                            Some(asked) => asked,
                            None => this.policy.delay(retries_used + 1, this.jitter.next()),
                        };
                        // Dropping the failed attempt releases its connection before the wait.
                        drop(err);
                        this.state = RetryState::Backoff(Box::pin(tokio::time::sleep(delay)));
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn flaky(
        fail_times: u32,
        err: fn() -> Error,
    ) -> (
        impl FnMut() -> Attempt + Send + Unpin + 'static,
        Arc<AtomicU32>,
    ) {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let make = move || -> Attempt {
            let n = c.fetch_add(1, Ordering::SeqCst);
            if n < fail_times {
                futures::stream::iter(vec![Err(err())]).boxed()
            } else {
                futures::stream::iter(vec![
                    Ok(Chunk::Text("ok".into())),
                    Ok(Chunk::from(crate::Finish::default())),
                ])
                .boxed()
            }
        };
        (make, calls)
    }

    fn unavailable() -> Error {
        Error::new(ErrorKind::Server, "HTTP 503")
            .with_status(503)
            .with_retryable(true)
    }

    #[tokio::test(start_paused = true)]
    async fn retries_with_backoff_then_succeeds() {
        let (make, calls) = flaky(2, unavailable);
        let start = tokio::time::Instant::now();
        let items: Vec<_> = Retrying::new("t", RetryPolicy::default(), make)
            .collect()
            .await;
        assert!(items.iter().all(Result::is_ok), "{items:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Two backoffs: [0.25, 0.5] s and [0.5, 1] s.
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(750) && waited <= Duration::from_millis(1500),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_with_the_last_error_and_the_attempt_count() {
        let (make, calls) = flaky(10, unavailable);
        let items: Vec<_> = Retrying::new("t", RetryPolicy::default().max_retries(3), make)
            .collect()
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(err.status(), Some(503));
        assert!(
            err.to_string().ends_with("(gave up after 4 attempts)"),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_errors_fail_at_once() {
        let (make, calls) = flaky(10, || Error::new(ErrorKind::Auth, "no").with_status(401));
        let items: Vec<_> = Retrying::new("t", RetryPolicy::default(), make)
            .collect()
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(items[0].as_ref().unwrap_err().to_string(), "no");
    }

    #[tokio::test(start_paused = true)]
    async fn never_after_content() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let make = move || -> Attempt {
            c.fetch_add(1, Ordering::SeqCst);
            futures::stream::iter(vec![Ok(Chunk::Text("partial".into())), Err(unavailable())])
                .boxed()
        };
        let items: Vec<_> = Retrying::new("t", RetryPolicy::default(), make)
            .collect()
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(items.len(), 2);
        assert!(items[1].is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_within_the_bound() {
        let (make, _) = flaky(1, || unavailable().with_retry_after(Duration::from_secs(7)));
        let start = tokio::time::Instant::now();
        let items: Vec<_> = Retrying::new("t", RetryPolicy::default(), make)
            .collect()
            .await;
        assert!(items[0].is_ok());
        assert_eq!(start.elapsed(), Duration::from_secs(7));

        let (make, calls) = flaky(1, || {
            unavailable().with_retry_after(Duration::from_secs(600))
        });
        let items: Vec<_> = Retrying::new("t", RetryPolicy::default(), make)
            .collect()
            .await;
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert!(err.to_string().contains("retry after 600 s"), "{err}");
    }

    #[test]
    fn jittered_delays_stay_in_their_band() {
        let p = RetryPolicy::default();
        let mut j = Jitter::new(7);
        for retry in 1..8 {
            let base = p.base_delay(retry);
            for _ in 0..100 {
                let d = p.delay(retry, j.next());
                assert!(d >= base / 2 && d <= base, "{d:?} vs {base:?}");
            }
        }
        assert_eq!(p.base_delay(0), Duration::from_millis(500));
        assert_eq!(p.base_delay(u32::MAX), Duration::from_secs(8));
    }

    #[test]
    fn the_first_attempt_waits_for_the_first_poll() {
        let (make, calls) = flaky(0, unavailable);
        let s = Retrying::new("t", RetryPolicy::default(), make);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        drop(s);
    }
}

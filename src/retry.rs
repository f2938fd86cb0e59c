//! Safe retries: only before the first content has been delivered, so output is never
//! duplicated; exponential backoff with jitter; `Retry-After` honoured within a bound.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::future::Future;
#[cfg(test)]
use futures::stream::BoxStream;
use futures::Stream;
use pin_project::pin_project;
use tokio::time::{Instant, Sleep};

use crate::chunk::Chunk;
use crate::duration::fmt_duration;
use crate::error::{Error, ErrorKind, Result};
use crate::request::Timeouts;

/// When and how a request that failed before its first content is retried.
///
/// Retried: connection failures, HTTP 408, 429 (except a used-up quota), 500, 502, 503,
/// 504, and an error event that arrives before any text ([`Error::is_retryable`]).
/// Never retried once text, reasoning, a refusal or a tool call has been delivered.
///
/// ```
/// use std::time::Duration;
/// use theory_llm::retry::RetryPolicy;
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
        let extra = match jitter_nanos.checked_add(1) {
            Some(0) | None => random,
            Some(span) => random % span,
        };
        half.saturating_add(Duration::from_nanos(extra).min(half))
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

/// An attempt's stream, in the tests.
#[cfg(test)]
type Attempt = BoxStream<'static, Result<Chunk>>;

/// Runs attempts made by `make` until one delivers content or fails for good.
///
/// `make` is given the instant by which the first content must have arrived (the
/// first-chunk limit counted from the first poll, or the total deadline, whichever
/// comes first), so that an attempt can report what it got (an error status whose
/// body stalls) before the stream's own timer fires. A retry whose wait would pass
/// that instant is not made: the error is reported at once, with its status.
#[pin_project]
pub(crate) struct Retrying<F, A> {
    /// First, so that the attempt being read shares its cache lines with the stream's
    /// other state.
    #[pin]
    state: RetryState<A>,
    /// `None` once content was delivered: no attempt follows, so what attempts are
    /// made from (for a provider, the request) is not held by a long stream.
    make: Option<F>,
    policy: RetryPolicy,
    provider: Arc<str>,
    timeouts: Timeouts,
    /// When the call was made (the total deadline counts from here).
    called_at: Instant,
    /// The time limit before the first content, once the first poll has fixed it.
    limit: Option<(Instant, &'static str, Duration)>,
    /// Attempts started so far.
    attempts: u32,
    /// Text or reasoning has reached the app: no retry from now on.
    delivered: bool,
    jitter: Jitter,
}

#[pin_project(project = StateProj)]
enum RetryState<A> {
    /// Not started: the first poll makes the first attempt (the stream stays lazy).
    Idle,
    /// In place, and polled without a dynamic call.
    Running(#[pin] A),
    /// Waiting before the next attempt (no connection is held meanwhile).
    Backoff(Pin<Box<Sleep>>),
    Done,
}

impl<F, A> Retrying<F, A>
where
    F: FnMut(Option<Instant>) -> A + Send + Unpin + 'static,
    A: Stream<Item = Result<Chunk>> + Send + 'static,
{
    /// Retries under `policy`, within `timeouts` (the ones the stream applies).
    pub(crate) fn new(
        provider: Arc<str>,
        policy: RetryPolicy,
        timeouts: Timeouts,
        make: F,
    ) -> Retrying<F, A> {
        let seed_hint = &policy as *const RetryPolicy as usize;
        Retrying {
            make: Some(make),
            policy,
            provider,
            timeouts: timeouts.clamped(),
            called_at: Instant::now(),
            limit: None,
            state: RetryState::Idle,
            attempts: 0,
            delivered: false,
            jitter: Jitter::new(seed_hint),
        }
    }
}

/// The time limit before the first content, fixed at the first poll (when the
/// stream's first-chunk timer starts too): the first-chunk limit or the total deadline,
/// whichever comes first.
fn first_content_limit(
    timeouts: &Timeouts,
    called_at: Instant,
) -> Option<(Instant, &'static str, Duration)> {
    let now = Instant::now();
    let first_chunk = timeouts
        .first_chunk
        .map(|d| (now + d, "first-chunk limit", d));
    let deadline = timeouts
        .deadline
        .map(|d| (called_at + d, "total deadline", d));
    match (first_chunk, deadline) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The error to give up with, saying how many attempts were made.
fn give_up(attempts: u32, err: Error) -> Error {
    if attempts > 1 {
        err.suffix(&format!(" (gave up after {attempts} attempts)"))
    } else {
        err
    }
}

impl<F, A> Stream for Retrying<F, A>
where
    F: FnMut(Option<Instant>) -> A + Send + Unpin + 'static,
    A: Stream<Item = Result<Chunk>> + Send + 'static,
{
    type Item = Result<Chunk>;

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let this = self.as_mut().project();
            match this.state.project() {
                StateProj::Running(attempt) => match ready!(attempt.poll_next(cx)) {
                    Some(Ok(chunk)) => {
                        if !*this.delivered && !matches!(chunk, Chunk::Finish(_)) {
                            *this.delivered = true;
                            *this.make = None;
                        }
                        return Poll::Ready(Some(Ok(chunk)));
                    }
                    None => {
                        self.project().state.set(RetryState::Done);
                        return Poll::Ready(None);
                    }
                    Some(Err(err)) => {
                        if let Some(err) = self.as_mut().retry_or_give_up(err) {
                            return Poll::Ready(Some(Err(err)));
                        }
                    }
                },
                StateProj::Done => return Poll::Ready(None),
                StateProj::Idle => self.as_mut().start(true),
                StateProj::Backoff(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    self.as_mut().start(false);
                }
            }
        }
    }
}

// What happens once per attempt stays out of the per-item poll (never inlined), so that
// its stack frame stays that of the item path: the attempt's construction and the
// error messages would make it kilobytes.
impl<F, A> Retrying<F, A>
where
    F: FnMut(Option<Instant>) -> A + Send + Unpin + 'static,
    A: Stream<Item = Result<Chunk>> + Send + 'static,
{
    /// Starts an attempt: the first one fixes the time limit before the first content.
    #[inline(never)]
    fn start(self: Pin<&mut Self>, first: bool) {
        let mut this = self.project();
        if first {
            *this.limit = first_content_limit(this.timeouts, *this.called_at);
        }
        *this.attempts += 1;
        let give_up_at = this.limit.map(|(at, _, _)| at);
        // Attempts start before any content, while `make` is kept.
        match this.make.as_mut() {
            Some(make) => this.state.set(RetryState::Running(make(give_up_at))),
            None => this.state.set(RetryState::Done),
        }
    }

    /// After the attempt failed with `err`: waits to retry (`None`), or gives up with
    /// the error to report.
    #[inline(never)]
    fn retry_or_give_up(self: Pin<&mut Self>, err: Error) -> Option<Error> {
        let mut this = self.project();
        let retried = Retried {
            policy: this.policy,
            provider: this.provider,
            attempts: *this.attempts,
            limit: *this.limit,
        };
        if *this.delivered {
            this.state.set(RetryState::Done);
            return Some(give_up(*this.attempts, err));
        }
        match retried.wait_after(err, this.jitter.next()) {
            Ok(delay) => {
                this.state
                    .set(RetryState::Backoff(Box::pin(tokio::time::sleep(delay))));
                None
            }
            Err(err) => {
                this.state.set(RetryState::Done);
                Some(err)
            }
        }
    }
}

/// Where a request's retries stand, for the decision after a failure.
struct Retried<'a> {
    policy: &'a RetryPolicy,
    provider: &'a str,
    /// Attempts made so far, the failed one included.
    attempts: u32,
    /// The time limit before the first content.
    limit: Option<(Instant, &'static str, Duration)>,
}

impl Retried<'_> {
    /// After an attempt failed with `err` (and nothing was delivered): how long to wait
    /// before the next one, or the error to give up with. `random` makes the jitter.
    fn wait_after(&self, err: Error, random: u64) -> std::result::Result<Duration, Error> {
        let retries_used = self.attempts.saturating_sub(1);
        if !err.is_retryable() || retries_used >= self.policy.max_retries {
            return Err(give_up(self.attempts, err));
        }
        let delay = match err.retry_after() {
            Some(asked) if asked > self.policy.max_retry_after => {
                let msg = format!(
                    "{} asks to wait {} before retrying, longer than the {} this SDK waits by itself: retry after {}. (Server said: {err})",
                    self.provider,
                    fmt_duration(asked),
                    fmt_duration(self.policy.max_retry_after),
                    fmt_duration(asked),
                );
                let mut out = Error::new(ErrorKind::RateLimited, msg).with_retry_after(asked);
                if let Some(status) = err.status() {
                    out = out.with_status(status);
                }
                return Err(out);
            }
            Some(asked) => asked,
            None => self.policy.delay(retries_used + 1, random),
        };
        if let Some((at, name, limit)) = self.limit {
            if Instant::now() + delay >= at {
                // The time limit would pass during the wait: report what the server
                // said instead of a timeout.
                let why = match err.retry_after() {
                    Some(_) => "the server asks to wait",
                    None => "the next retry would come after",
                };
                return Err(give_up(self.attempts, err).suffix(&format!(
                    " (not retried: {why} {}, past the {name} of {})",
                    fmt_duration(delay),
                    fmt_duration(limit)
                )));
            }
        }
        // A span event of the call's span (the stream enters it on every poll), so
        // that a trace shows each retry and why.
        #[cfg(feature = "tracing")]
        tracing::info!(
            target: "theory_llm",
            retry = retries_used + 1,
            error.type = err.kind().as_str(),
            http.response.status_code = err.status(),
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error.message = err.message(),
            "retrying"
        );
        // Dropping the failed attempt's error (and what it holds) before the wait.
        drop(err);
        Ok(delay)
    }
}

/// Runs a request whose reply is read whole (no stream; an embedding batch), under
/// `policy` and within `timeouts` as a stream's first content would be: `attempt` is
/// given the instant by which its reply must be complete, and is made again after a
/// retryable failure, with the same backoff, `Retry-After` and limits as a stream's
/// attempts. `called_at` is when the call was made (the total deadline counts from
/// there).
pub(crate) async fn call<T, F, Fut>(
    provider: &str,
    policy: RetryPolicy,
    timeouts: Timeouts,
    called_at: Instant,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(Option<Instant>) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let timeouts = timeouts.clamped();
    let limit = first_content_limit(&timeouts, called_at);
    let mut jitter = Jitter::new(&policy as *const RetryPolicy as usize);
    let mut attempts = 0u32;
    loop {
        attempts = attempts.saturating_add(1);
        let err = match attempt(limit.map(|(at, _, _)| at)).await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let retried = Retried {
            policy: &policy,
            provider,
            attempts,
            limit,
        };
        let delay = retried.wait_after(err, jitter.next())?;
        tokio::time::sleep(delay).await;
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
        impl FnMut(Option<Instant>) -> Attempt + Send + Unpin + 'static,
        Arc<AtomicU32>,
    ) {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let make = move |_: Option<Instant>| -> Attempt {
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
        let items: Vec<_> = Retrying::new(
            Arc::from("t"),
            RetryPolicy::default(),
            Timeouts::default(),
            make,
        )
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
        let items: Vec<_> = Retrying::new(
            Arc::from("t"),
            RetryPolicy::default().max_retries(3),
            Timeouts::default(),
            make,
        )
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
        let items: Vec<_> = Retrying::new(
            Arc::from("t"),
            RetryPolicy::default(),
            Timeouts::default(),
            make,
        )
        .collect()
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(items[0].as_ref().unwrap_err().to_string(), "no");
    }

    #[tokio::test(start_paused = true)]
    async fn never_after_content() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let make = move |_: Option<Instant>| -> Attempt {
            c.fetch_add(1, Ordering::SeqCst);
            futures::stream::iter(vec![Ok(Chunk::Text("partial".into())), Err(unavailable())])
                .boxed()
        };
        let items: Vec<_> = Retrying::new(
            Arc::from("t"),
            RetryPolicy::default(),
            Timeouts::default(),
            make,
        )
        .collect()
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(items.len(), 2);
        assert!(items[1].is_err());
    }

    /// What attempts are made from (for a provider, the request) is let go once content
    /// has arrived: no attempt follows, and a long stream should not hold it.
    #[tokio::test(start_paused = true)]
    async fn what_attempts_are_made_from_is_dropped_once_content_arrived() {
        let request = Arc::new("the request");
        let held = request.clone();
        let make = move |_: Option<Instant>| -> Attempt {
            let _ = &held;
            futures::stream::iter(vec![
                Ok(Chunk::Text("one".into())),
                Ok(Chunk::Text("two".into())),
            ])
            .boxed()
        };
        let mut stream = Retrying::new(
            Arc::from("t"),
            RetryPolicy::default(),
            Timeouts::default(),
            make,
        );
        assert_eq!(Arc::strong_count(&request), 2);
        assert!(matches!(stream.next().await, Some(Ok(Chunk::Text(_)))));
        assert_eq!(Arc::strong_count(&request), 1);
        assert!(matches!(stream.next().await, Some(Ok(Chunk::Text(_)))));
        assert!(stream.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_within_the_bound() {
        let (make, _) = flaky(1, || unavailable().with_retry_after(Duration::from_secs(7)));
        let start = tokio::time::Instant::now();
        let items: Vec<_> = Retrying::new(
            Arc::from("t"),
            RetryPolicy::default(),
            Timeouts::default(),
            make,
        )
        .collect()
        .await;
        assert!(items[0].is_ok());
        assert_eq!(start.elapsed(), Duration::from_secs(7));

        let (make, calls) = flaky(1, || {
            unavailable().with_retry_after(Duration::from_secs(600))
        });
        let items: Vec<_> = Retrying::new(
            Arc::from("t"),
            RetryPolicy::default(),
            Timeouts::default(),
            make,
        )
        .collect()
        .await;
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert!(err.to_string().contains("retry after 600 s"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_time_limit_is_not_made() {
        // Regression (issue 11): a 503 asking for 30 s under a 2 s first-chunk limit
        // was slept on, and reported as "no content within the first-chunk limit".
        let (make, calls) = flaky(1, || {
            unavailable().with_retry_after(Duration::from_secs(30))
        });
        let t = Timeouts::default().first_chunk(Duration::from_secs(2));
        let start = tokio::time::Instant::now();
        let items: Vec<_> = Retrying::new(Arc::from("t"), RetryPolicy::default(), t, make)
            .collect()
            .await;
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(503)));
        assert!(
            err.to_string().contains("first-chunk limit of 2 s"),
            "{err}"
        );

        // A backoff that fits is waited for; the attempt is told the limit.
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mut inner, calls) = flaky(1, unavailable);
        let record = seen.clone();
        let make = move |at: Option<Instant>| {
            record.lock().unwrap().push(at);
            inner(at)
        };
        let t = Timeouts::default()
            .first_chunk(Duration::from_secs(10))
            .deadline(Duration::from_secs(4));
        let start = tokio::time::Instant::now();
        let items: Vec<_> = Retrying::new(Arc::from("t"), RetryPolicy::default(), t, make)
            .collect()
            .await;
        assert!(items.iter().all(Result::is_ok), "{items:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen
            .iter()
            .all(|at| *at == Some(start + Duration::from_secs(4))));
    }

    #[test]
    fn huge_backoffs_do_not_overflow() {
        let p = RetryPolicy::default().backoff(Duration::MAX, Duration::MAX);
        for random in [0, 1, u64::MAX] {
            assert!(p.delay(5, random) >= p.base_delay(5) / 2);
        }
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
        let s = Retrying::new(
            Arc::from("t"),
            RetryPolicy::default(),
            Timeouts::default(),
            make,
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        drop(s);
    }
}

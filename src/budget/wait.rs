//! How long a request may wait for admission ([`Deadline`]), how a wait ends
//! ([`Admitted`], or the errors of a request that may not be admitted).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::duration::fmt_duration;
use crate::error::{Error, ErrorKind};

/// The most a request waits for admission, from when it began to wait. Its timer is
/// made at the first poll (a stream may be made outside a runtime).
#[derive(Debug)]
pub(crate) struct Deadline {
    pub(crate) started: Instant,
    pub(crate) at: Instant,
    pub(crate) limit: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Deadline {
    /// `limit` from now (at most 100 years, so that the instant cannot overflow).
    pub(crate) fn new(limit: Duration) -> Deadline {
        let limit = limit.min(crate::duration::UNREASONABLE_WAIT);
        let started = Instant::now();
        Deadline {
            started,
            at: started + limit,
            limit,
            timer: None,
        }
    }

    /// Ready once the deadline has passed; registers the task's waker until then.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let at = self.at;
        self.timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)))
            .as_mut()
            .poll(cx)
    }

    /// How long it has waited so far.
    pub(crate) fn waited(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A request admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Admitted {
    /// The grant's ticket; `None` for a request admitted without the books (a shared
    /// budget that cannot be reached, failing open).
    pub(crate) ticket: Option<u64>,
    /// It had to wait (it was told so at least once).
    pub(crate) waited: bool,
}

/// The error of a request that waited its limit without being admitted: `rate_limited`,
/// with when the budget will have room for it, if that is known (the windows or a hold
/// say; a wait for a stream to end does not).
pub(crate) fn waited_too_long(deadline: &Deadline, retry_in: Option<Duration>) -> Error {
    let advice = match retry_in {
        Some(wait) => format!("it has room in {}", fmt_duration(wait)),
        None => "it has room when a stream ends".to_owned(),
    };
    let error = Error::new(
        ErrorKind::RateLimited,
        format!(
            "budget: no room for this request within its wait limit of {} (waited {}); {advice}. Retry later, lower the request rate, or raise the wait limit",
            fmt_duration(deadline.limit),
            fmt_duration(deadline.waited()),
        ),
    );
    match retry_in {
        Some(wait) => error.with_retry_after(wait),
        None => error,
    }
}

/// The error of a request larger than a limit of the budget.
pub(crate) fn too_large(why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidRequest,
        format!("budget: {why}, so it can never be admitted: lower max_tokens, shorten the prompt, or raise the limit"),
    )
}

//! [`Timed`]: the first-chunk, idle and deadline limits over a stream of chunks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, RawWakerVTable};
use std::time::Duration;

use futures::Stream;
use tokio::time::{Instant, Sleep};

use crate::chunk::Chunk;
use crate::duration::fmt_duration;
use crate::error::{Error, ErrorKind, Result};
use crate::request::Timeouts;

use super::BoxChunkStream;

/// Time limits over a chunk stream. Timers are created on the first poll (so a stream
/// can be made outside a runtime) and re-armed lazily: the timer is moved forward only
/// when it fires early.
///
/// The idle limit bounds each wait: the clock is read when a wait begins (the inner
/// stream has no item at hand after yielding some), not per item. Items already at hand,
/// e.g. several events from one read, pass without a clock read (a clock read per item
/// measured 2-4% of an OpenAI stream's per-chunk cost), and the app's own time between
/// polls is not counted as the server's silence.
pub(super) struct Timed {
    inner: BoxChunkStream,
    provider: String,
    timeouts: Timeouts,
    deadline: Option<Instant>,
    seen_first: bool,
    /// When the current wait for an item began (the first poll, or the first poll that
    /// found no item after some were yielded).
    waiting_since: Option<Instant>,
    /// Items were yielded since `waiting_since`.
    yielded: bool,
    /// The waker both timers were last polled with (its data and vtable addresses, which
    /// is what `Waker::will_wake` compares). While the task's waker is the same and a
    /// timer has not fired, polling it again would only re-register that waker, so it
    /// is skipped (measured: ~5% of an Ollama stream's per-chunk cost, since with one
    /// chunk per wake-up every chunk is followed by a wait).
    ///
    /// The addresses of `cx.waker()` are kept rather than a clone: a clone may carry
    /// another copy of the same vtable, so `will_wake` against it can be false forever.
    registered: Option<(usize, usize)>,
    /// First-chunk timer until the first item, then the idle timer.
    phase_timer: Option<Pin<Box<Sleep>>>,
    deadline_timer: Option<Pin<Box<Sleep>>>,
}

impl Timed {
    fn phase_limit(&self) -> Option<Duration> {
        if self.seen_first {
            self.timeouts.idle
        } else {
            self.timeouts.first_chunk
        }
    }

    fn timeout_error(&self, phase: &str, limit: Duration, advice: &str) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{} timed out: {phase} (limit {}). {advice}",
                self.provider,
                fmt_duration(limit)
            ),
        )
    }
}

impl Timed {
    /// `inner` under `timeouts`; the deadline is an instant (counted from the call).
    pub(super) fn new(
        inner: BoxChunkStream,
        provider: String,
        timeouts: Timeouts,
        deadline: Option<Instant>,
    ) -> Timed {
        Timed {
            inner,
            provider,
            timeouts,
            deadline,
            seen_first: false,
            waiting_since: None,
            yielded: false,
            registered: None,
            phase_timer: None,
            deadline_timer: None,
        }
    }
}

impl Stream for Timed {
    type Item = Result<Chunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.waiting_since.is_none() {
            // The first poll: arm the first-chunk and deadline timers.
            let now = Instant::now();
            this.waiting_since = Some(now);
            if let Some(limit) = this.phase_limit() {
                this.phase_timer = Some(Box::pin(tokio::time::sleep_until(now + limit)));
            }
            if let Some(deadline) = this.deadline {
                this.deadline_timer = Some(Box::pin(tokio::time::sleep_until(deadline)));
            }
        }

        if let Poll::Ready(item) = this.inner.as_mut().poll_next(cx) {
            if item.is_some() {
                this.yielded = true;
                if !this.seen_first {
                    this.seen_first = true;
                    // The first-chunk limit is met; the idle timer is armed at the
                    // first wait.
                    this.phase_timer = None;
                }
            }
            return Poll::Ready(item);
        }

        if this.yielded {
            // A new wait begins now.
            this.yielded = false;
            let now = Instant::now();
            this.waiting_since = Some(now);
            if this.phase_timer.is_none() {
                if let Some(limit) = this.phase_limit() {
                    this.phase_timer = Some(Box::pin(tokio::time::sleep_until(now + limit)));
                    this.registered = None;
                }
            }
        }

        // A timer must be polled when it may have fired, or to register a new waker.
        let waker = cx.waker();
        let id = (
            waker.data() as usize,
            waker.vtable() as *const RawWakerVTable as usize,
        );
        let registered = this.registered == Some(id);
        this.registered = Some(id);
        let due = |timer: &Pin<Box<Sleep>>| !registered || timer.is_elapsed();

        if let Some(timer) = this.deadline_timer.as_mut().filter(|t| due(t)) {
            if timer.as_mut().poll(cx).is_ready() {
                let limit = this.timeouts.deadline.unwrap_or_default();
                let err = this.timeout_error(
                    "the reply did not finish within the total deadline",
                    limit,
                    "Raise the deadline, or ask for a shorter reply (max_tokens).",
                );
                return Poll::Ready(Some(Err(err)));
            }
        }

        let limit = this.phase_limit();
        let timer = this.phase_timer.as_mut().filter(|t| due(t));
        if let (Some(timer), Some(limit)) = (timer, limit) {
            if timer.as_mut().poll(cx).is_ready() {
                let due = this.waiting_since.map_or_else(Instant::now, |t| t + limit);
                if due > Instant::now() {
                    // The wait began after the timer was armed: move it forward.
                    timer.as_mut().reset(due);
                    if timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                let err = if this.seen_first {
                    this.timeout_error(
                        "no new content arrived within the idle limit",
                        limit,
                        "The server stalled mid-reply; retry, or raise the idle timeout.",
                    )
                } else {
                    this.timeout_error(
                        "no content arrived within the first-chunk limit",
                        limit,
                        "The server may be busy or still loading the model; retry, or raise the first-chunk timeout.",
                    )
                };
                return Poll::Ready(Some(Err(err)));
            }
        }
        Poll::Pending
    }
}

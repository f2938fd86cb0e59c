//! [`Timed`]: the first-chunk, idle and deadline limits over a stream of chunks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, RawWakerVTable};
use std::time::Duration;

use futures::Stream;
use pin_project::pin_project;
use tokio::time::{Instant, Sleep};

use crate::chunk::Chunk;
use crate::duration::fmt_duration;
use crate::error::{Error, ErrorKind, Result};
use crate::request::Timeouts;

/// The idle limit is checked in this many ticks (see [`Timed`]): a stall is reported
/// at most a sixteenth of the limit late, never early.
const IDLE_TICKS: u32 = 16;
/// The shortest tick, so that a tiny idle limit does not spin the timer.
const MIN_TICK: Duration = Duration::from_millis(1);

/// Time limits over a chunk stream. Timers are created on the first poll (so a stream
/// can be made outside a runtime).
///
/// The first-chunk limit and the deadline are exact: one timer each, armed once. The
/// idle limit costs no clock read per item: a timer ticks every sixteenth of the limit,
/// and the stream is idle once [`IDLE_TICKS`] ticks in a row saw no item. A stall is
/// so reported between the limit and a sixteenth more after the last item (a clock
/// read per wait measured 2-4% of a stream's per-chunk cost, since with one chunk per
/// network read every chunk is followed by a wait). The first wait after the first
/// item starts the ticks, and a tick found long overdue (the app did not poll) starts
/// them again: the app's own time between polls is not counted as the server's
/// silence.
#[pin_project]
pub(super) struct Timed<S> {
    #[pin]
    inner: S,
    provider: String,
    timeouts: Timeouts,
    deadline: Option<Instant>,
    /// The first poll has armed the timers.
    armed: bool,
    seen_first: bool,
    /// An item was yielded since the last idle tick.
    progress: bool,
    /// Idle ticks in a row without an item.
    quiet_ticks: u32,
    /// The waker both timers were last polled with (its data and vtable addresses, which
    /// is what `Waker::will_wake` compares). While the task's waker is the same and a
    /// timer has not fired, polling it again would only re-register that waker, so it
    /// is skipped (measured: ~5% of an Ollama stream's per-chunk cost).
    ///
    /// The addresses of `cx.waker()` are kept rather than a clone: a clone may carry
    /// another copy of the same vtable, so `will_wake` against it can be false forever.
    registered: Option<(usize, usize)>,
    /// The first-chunk timer until the first item, then the idle ticker.
    phase_timer: Option<Pin<Box<Sleep>>>,
    deadline_timer: Option<Pin<Box<Sleep>>>,
}

/// The idle ticker's period and how many quiet ticks make a stall.
fn idle_ticks(limit: Duration) -> (Duration, u32) {
    let tick = (limit / IDLE_TICKS).max(MIN_TICK);
    let ticks = limit.as_nanos().div_ceil(tick.as_nanos()).max(1);
    (tick, u32::try_from(ticks).unwrap_or(u32::MAX))
}

impl<S> Timed<S> {
    /// `inner` under `timeouts`; the deadline is an instant (counted from the call).
    pub(super) fn new(
        inner: S,
        provider: String,
        timeouts: Timeouts,
        deadline: Option<Instant>,
    ) -> Timed<S> {
        Timed {
            inner,
            provider,
            timeouts,
            deadline,
            armed: false,
            seen_first: false,
            progress: false,
            quiet_ticks: 0,
            registered: None,
            phase_timer: None,
            deadline_timer: None,
        }
    }

    fn timeout_error(provider: &str, phase: &str, limit: Duration, advice: &str) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{provider} timed out: {phase} (limit {}). {advice}",
                fmt_duration(limit)
            ),
        )
    }
}

impl<S> Stream for Timed<S>
where
    S: Stream<Item = Result<Chunk>>,
{
    type Item = Result<Chunk>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if !*this.armed {
            // The first poll: arm the first-chunk and deadline timers.
            *this.armed = true;
            if let Some(limit) = this.timeouts.first_chunk {
                let at = Instant::now() + limit;
                *this.phase_timer = Some(Box::pin(tokio::time::sleep_until(at)));
            }
            if let Some(deadline) = *this.deadline {
                *this.deadline_timer = Some(Box::pin(tokio::time::sleep_until(deadline)));
            }
        }

        if let Poll::Ready(item) = this.inner.poll_next(cx) {
            if item.is_some() {
                *this.progress = true;
                if !*this.seen_first {
                    *this.seen_first = true;
                    // The first-chunk limit is met; the idle ticker starts at the
                    // first wait.
                    *this.phase_timer = None;
                }
            }
            return Poll::Ready(item);
        }

        let idle = this.timeouts.idle.filter(|_| *this.seen_first);
        if let (Some(limit), None) = (idle, this.phase_timer.as_ref()) {
            // The first wait after the first item: the ticks start now.
            let (tick, _) = idle_ticks(limit);
            *this.phase_timer = Some(Box::pin(tokio::time::sleep_until(Instant::now() + tick)));
            *this.progress = false;
            *this.quiet_ticks = 0;
            *this.registered = None;
        }

        // A timer must be polled when it may have fired, or to register a new waker.
        let waker = cx.waker();
        let id = (
            waker.data() as usize,
            waker.vtable() as *const RawWakerVTable as usize,
        );
        let registered = *this.registered == Some(id);
        *this.registered = Some(id);
        let due = |timer: &Pin<Box<Sleep>>| !registered || timer.is_elapsed();

        if let Some(timer) = this.deadline_timer.as_mut().filter(|t| due(t)) {
            if timer.as_mut().poll(cx).is_ready() {
                let limit = this.timeouts.deadline.unwrap_or_default();
                return Poll::Ready(Some(Err(Self::timeout_error(
                    this.provider,
                    "the reply did not finish within the total deadline",
                    limit,
                    "Raise the deadline, or ask for a shorter reply (max_tokens).",
                ))));
            }
        }

        let Some(timer) = this.phase_timer.as_mut().filter(|t| due(t)) else {
            return Poll::Pending;
        };
        while timer.as_mut().poll(cx).is_ready() {
            let Some(limit) = idle else {
                let limit = this.timeouts.first_chunk.unwrap_or_default();
                return Poll::Ready(Some(Err(Self::timeout_error(
                    this.provider,
                    "no content arrived within the first-chunk limit",
                    limit,
                    "The server may be busy or still loading the model; retry, or raise the first-chunk timeout.",
                ))));
            };
            // An idle tick.
            let (tick, ticks) = idle_ticks(limit);
            let now = Instant::now();
            let overdue = now.saturating_duration_since(timer.deadline()) > tick;
            if *this.progress || overdue {
                *this.quiet_ticks = 0;
            } else {
                *this.quiet_ticks = this.quiet_ticks.saturating_add(1);
            }
            *this.progress = false;
            if *this.quiet_ticks >= ticks {
                return Poll::Ready(Some(Err(Self::timeout_error(
                    this.provider,
                    "no new content arrived within the idle limit",
                    limit,
                    "The server stalled mid-reply; retry, or raise the idle timeout.",
                ))));
            }
            timer.as_mut().reset(now + tick);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_ticks_cover_the_limit() {
        assert_eq!(
            idle_ticks(Duration::from_secs(2)),
            (Duration::from_millis(125), 16)
        );
        // Tiny limits tick at the shortest period, enough times to cover the limit.
        assert_eq!(
            idle_ticks(Duration::from_millis(5)),
            (Duration::from_millis(1), 5)
        );
        assert_eq!(idle_ticks(Duration::ZERO), (Duration::from_millis(1), 1));
        let (tick, ticks) = idle_ticks(Duration::from_secs(100 * 365 * 24 * 3600));
        assert!(tick * ticks >= Duration::from_secs(100 * 365 * 24 * 3600));
    }
}

//! [`Timeouts`]: the time limits of one streamed request.

use std::time::Duration;

/// Time limits for one streamed request. `None` means "use the provider's setting".
///
/// The limits are stream-aware: a long reply that keeps producing text never
/// times out unless a total `deadline` is set.
///
/// ```
/// use std::time::Duration;
/// use theory_llm::Timeouts;
///
/// let t = Timeouts::default().idle(Duration::from_secs(5));
/// assert_eq!(t.idle, Some(Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// From sending the request to the first content (text, reasoning or finish).
    pub first_chunk: Option<Duration>,
    /// The longest wait for a next content event (from when the stream is polled for it
    /// with none at hand); keep-alives do not count as content. Checked without a clock
    /// read per chunk: it fires up to a sixteenth of the limit late, never early.
    pub idle: Option<Duration>,
    /// The whole request, from the call to the end of the stream.
    pub deadline: Option<Duration>,
}

impl Timeouts {
    /// Sets the first-chunk limit.
    #[must_use]
    pub fn first_chunk(mut self, limit: Duration) -> Timeouts {
        self.first_chunk = Some(limit);
        self
    }

    /// Sets the idle limit.
    #[must_use]
    pub fn idle(mut self, limit: Duration) -> Timeouts {
        self.idle = Some(limit);
        self
    }

    /// Sets the total deadline.
    #[must_use]
    pub fn deadline(mut self, limit: Duration) -> Timeouts {
        self.deadline = Some(limit);
        self
    }

    /// `self` with each limit at most [`UNREASONABLE_WAIT`](crate::duration::UNREASONABLE_WAIT)
    /// (100 years), so that adding a limit to an instant cannot overflow.
    pub(crate) fn clamped(self) -> Timeouts {
        let clamp = |d: Option<Duration>| d.map(|d| d.min(crate::duration::UNREASONABLE_WAIT));
        Timeouts {
            first_chunk: clamp(self.first_chunk),
            idle: clamp(self.idle),
            deadline: clamp(self.deadline),
        }
    }

    /// `self`, with unset limits taken from `fallback`.
    #[must_use]
    pub fn or(self, fallback: Timeouts) -> Timeouts {
        Timeouts {
            first_chunk: self.first_chunk.or(fallback.first_chunk),
            idle: self.idle.or(fallback.idle),
            deadline: self.deadline.or(fallback.deadline),
        }
    }
}

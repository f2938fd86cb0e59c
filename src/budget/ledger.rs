//! [`Ledger`]: the in-process budget's books, a pure state machine on a clock of
//! milliseconds given to each call. The Redis scripts (`redis/scripts.rs`) keep the same
//! books by the same rules, on the server.
//!
//! - Each windowed limit keeps a log of (when admitted, grant, amount) for the last
//!   period and their sum: a request is admitted when, for every window, the sum plus
//!   its amount is at most the limit. So no span of a period ever holds more than the
//!   limit (the sliding-window log, exact where a token bucket allows twice the limit
//!   across a refill).
//! - Streams at once are counted by grant; a grant ends once (settled and released).
//! - A hold (the server said the quota is used up, or a 429 said when to come back)
//!   admits nothing before it ends.
//! - Waiters are admitted in arrival order: while the line is not empty, only its head
//!   may be admitted, and newcomers join its end.

use std::collections::{HashMap, HashSet, VecDeque};

use super::limits::{Limits, Metered, Rate};

/// Milliseconds on the ledger's clock.
pub(crate) type Ms = u64;

/// What a request takes from a budget, or what it used: tokens and micro-USD (and one
/// request, and one stream while it lives).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Amounts {
    pub(crate) tokens: u64,
    pub(crate) usd_micros: u64,
}

impl Amounts {
    pub(crate) fn of(&self, what: Metered) -> u64 {
        match what {
            Metered::Requests => 1,
            Metered::Tokens => self.tokens,
            Metered::UsdMicros => self.usd_micros,
        }
    }
}

/// What a budget holds now: streams alive, and what each window holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Spent {
    /// Streams alive.
    pub streams: u64,
    /// Each windowed limit, with what its window holds now (reservations of streams
    /// alive, usage of the others), in the order of the limits.
    pub windows: Vec<(Rate, u64)>,
}

/// What the ledger says to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Admitted,
    /// Not now. `retry_in`: when the windows will have room (if they are what blocks);
    /// `None`: when something changes (a stream ends, the line moves). `held`: the wait
    /// is a hold, whose end is sure.
    Wait {
        retry_in: Option<Ms>,
        held: bool,
    },
    /// The request alone is more than a limit: it can never be admitted.
    TooLarge(String),
}

/// One windowed limit's log.
#[derive(Debug)]
struct Window {
    rate: Rate,
    period: Ms,
    /// (admitted at, grant), oldest first.
    log: VecDeque<(Ms, u64)>,
    amounts: HashMap<u64, u64>,
    sum: u64,
}

impl Window {
    /// Forgets what left the window: entries admitted at or before `now - period`.
    fn expire(&mut self, now: Ms) {
        while let Some(&(at, grant)) = self.log.front() {
            if at.saturating_add(self.period) > now {
                break;
            }
            self.log.pop_front();
            let amount = self.amounts.remove(&grant).unwrap_or(0);
            self.sum = self.sum.saturating_sub(amount);
        }
    }

    /// When `amount` more fits: 0 if now, else the wait until enough has left.
    fn room_in(&self, amount: u64, now: Ms) -> Ms {
        let need = self
            .sum
            .saturating_add(amount)
            .saturating_sub(self.rate.amount);
        if need == 0 {
            return 0;
        }
        let mut freed = 0u64;
        for &(at, grant) in &self.log {
            freed = freed.saturating_add(self.amounts.get(&grant).copied().unwrap_or(0));
            if freed >= need {
                return at.saturating_add(self.period).saturating_sub(now).max(1);
            }
        }
        // Only an over-spent window (a reply used more than it reserved) gets here:
        // everything in it must leave.
        self.period
    }
}

/// The books of one budget.
#[derive(Debug)]
pub(crate) struct Ledger {
    windows: Vec<Window>,
    concurrent: Option<u32>,
    streams: HashSet<u64>,
    held_until: Ms,
    line: VecDeque<u64>,
}

impl Ledger {
    pub(crate) fn new(limits: &Limits) -> Ledger {
        Ledger {
            windows: limits
                .rates()
                .iter()
                .map(|rate| Window {
                    rate: *rate,
                    period: rate.period_ms(),
                    log: VecDeque::new(),
                    amounts: HashMap::new(),
                    sum: 0,
                })
                .collect(),
            concurrent: limits.concurrent_streams(),
            streams: HashSet::new(),
            held_until: 0,
            line: VecDeque::new(),
        }
    }

    /// Asks admission for `ticket`, which takes `ask`, at `now`. A ticket that must wait
    /// keeps its place in line until it is admitted or [`leave`](Self::leave)s.
    pub(crate) fn admit(&mut self, ticket: u64, ask: Amounts, now: Ms) -> Verdict {
        if let Some(why) = self.too_large(ask) {
            self.leave(ticket);
            return Verdict::TooLarge(why);
        }
        if self.line.front().is_some_and(|&head| head != ticket) {
            self.join(ticket);
            return Verdict::Wait {
                retry_in: None,
                held: false,
            };
        }
        if self.held_until > now {
            self.join(ticket);
            return Verdict::Wait {
                retry_in: Some(self.held_until - now),
                held: true,
            };
        }
        let mut blocked = false;
        let mut retry_in = 0;
        for window in &mut self.windows {
            window.expire(now);
            let wait = window.room_in(ask.of(window.rate.what), now);
            blocked |= wait > 0;
            retry_in = retry_in.max(wait);
        }
        let full = self
            .concurrent
            .is_some_and(|n| self.streams.len() >= n as usize);
        if blocked || full {
            self.join(ticket);
            return Verdict::Wait {
                retry_in: (retry_in > 0).then_some(retry_in),
                held: false,
            };
        }
        self.leave(ticket);
        // Logged even at 0: a reply may use more than it reserved.
        for window in &mut self.windows {
            let amount = ask.of(window.rate.what);
            window.log.push_back((now, ticket));
            window.amounts.insert(ticket, amount);
            window.sum = window.sum.saturating_add(amount);
        }
        self.streams.insert(ticket);
        Verdict::Admitted
    }

    /// Why `ask` can never be admitted, if it cannot.
    fn too_large(&self, ask: Amounts) -> Option<String> {
        if self.concurrent == Some(0) {
            return Some("the budget allows no streams (concurrent=0)".into());
        }
        self.windows.iter().find_map(|w| {
            let amount = ask.of(w.rate.what);
            (amount > w.rate.amount).then(|| {
                format!(
                    "the request needs {amount} {}, more than the budget's {} per {} ms",
                    w.rate.what.as_str(),
                    w.rate.amount,
                    w.period
                )
            })
        })
    }

    fn join(&mut self, ticket: u64) {
        if !self.line.contains(&ticket) {
            self.line.push_back(ticket);
        }
    }

    /// `ticket` stops waiting (it gave up, or was dropped).
    pub(crate) fn leave(&mut self, ticket: u64) {
        if let Some(at) = self.line.iter().position(|&t| t == ticket) {
            self.line.remove(at);
        }
    }

    /// The grant `ticket` ends: its stream is released, and its reservation becomes
    /// what it `used` (in windows it is still in).
    pub(crate) fn end(&mut self, ticket: u64, used: Amounts) {
        if !self.streams.remove(&ticket) {
            return;
        }
        for window in &mut self.windows {
            if window.rate.what == Metered::Requests {
                continue;
            }
            let Some(amount) = window.amounts.get_mut(&ticket) else {
                continue;
            };
            let new = used.of(window.rate.what);
            window.sum = window.sum.saturating_sub(*amount).saturating_add(new);
            *amount = new;
        }
    }

    /// Admits nothing before `until`.
    pub(crate) fn hold(&mut self, until: Ms) {
        self.held_until = self.held_until.max(until);
    }

    /// The first in line, who is woken when something changes.
    pub(crate) fn head(&self) -> Option<u64> {
        self.line.front().copied()
    }

    /// Streams alive.
    pub(crate) fn streams(&self) -> usize {
        self.streams.len()
    }

    /// What each window holds at `now`.
    pub(crate) fn windows(&mut self, now: Ms) -> Vec<(Rate, u64)> {
        self.windows
            .iter_mut()
            .map(|w| {
                w.expire(now);
                (w.rate, w.sum)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

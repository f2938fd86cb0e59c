//! The ledger against a simple model: the same operations applied to both, the model
//! deciding by brute force over the whole history (no running sums, no expiry), and
//! the ledger's every verdict held to the model's.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

/// What the model remembers of a grant.
#[derive(Debug, Clone)]
struct Grant {
    ticket: u64,
    at: Ms,
    reserved: Amounts,
    used: Option<Amounts>,
}

impl Grant {
    fn counts(&self, what: Metered) -> u64 {
        self.used.unwrap_or(self.reserved).of(what)
    }
}

/// The model: everything that happened, and rules read straight off the spec.
#[derive(Debug)]
struct Model {
    limits: Limits,
    grants: Vec<Grant>,
    line: VecDeque<u64>,
    held_until: Ms,
}

impl Model {
    /// The windows' sums at `now`, over every grant admitted less than a period ago.
    fn in_window(&self, rate: &Rate, now: Ms) -> u64 {
        self.grants
            .iter()
            .filter(|g| g.at + rate.period_ms() > now)
            .map(|g| g.counts(rate.what))
            .sum()
    }

    fn windows_have_room(&self, ask: Amounts, now: Ms) -> bool {
        self.limits
            .rates()
            .iter()
            .all(|r| self.in_window(r, now) + ask.of(r.what) <= r.amount)
    }

    fn live(&self) -> usize {
        self.grants.iter().filter(|g| g.used.is_none()).count()
    }

    fn too_large(&self, ask: Amounts) -> bool {
        self.limits.concurrent_streams() == Some(0)
            || self
                .limits
                .rates()
                .iter()
                .any(|r| ask.of(r.what) > r.amount)
    }

    /// The first time from `now` on when the windows have room for `ask`, nothing else
    /// happening: `now`, or a moment an entry leaves a window.
    fn windows_room_at(&self, ask: Amounts, now: Ms) -> Ms {
        let mut moments: Vec<Ms> = self
            .limits
            .rates()
            .iter()
            .flat_map(|r| self.grants.iter().map(move |g| g.at + r.period_ms()))
            .filter(|&t| t > now)
            .collect();
        moments.push(now);
        moments.sort_unstable();
        moments
            .into_iter()
            .find(|&t| self.windows_have_room(ask, t))
            .expect("every entry leaves at last")
    }

    /// What the spec says to `ticket` asking `ask` at `now`; updates the line.
    fn admit(&mut self, ticket: u64, ask: Amounts, now: Ms) -> Verdict {
        let join = |line: &mut VecDeque<u64>| {
            if !line.contains(&ticket) {
                line.push_back(ticket);
            }
        };
        if self.too_large(ask) {
            self.line.retain(|&t| t != ticket);
            return Verdict::TooLarge(String::new());
        }
        if self.line.front().is_some_and(|&h| h != ticket) {
            join(&mut self.line);
            return Verdict::Wait {
                retry_in: None,
                held: false,
            };
        }
        if now < self.held_until {
            join(&mut self.line);
            return Verdict::Wait {
                retry_in: Some(self.held_until - now),
                held: true,
            };
        }
        let full = self
            .limits
            .concurrent_streams()
            .is_some_and(|n| self.live() >= n as usize);
        let windows = self.windows_have_room(ask, now);
        if full || !windows {
            join(&mut self.line);
            let retry_in = (!windows).then(|| self.windows_room_at(ask, now) - now);
            return Verdict::Wait {
                retry_in,
                held: false,
            };
        }
        self.line.retain(|&t| t != ticket);
        self.grants.push(Grant {
            ticket,
            at: now,
            reserved: ask,
            used: None,
        });
        Verdict::Admitted
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Time passes.
    Advance(Ms),
    /// A new request arrives.
    Arrive(Amounts),
    /// The head of the line (or the n-th waiter) asks again.
    Retry(usize),
    /// A live grant ends, having used what it says.
    End(usize, Amounts),
    /// A waiter gives up.
    Leave(usize),
    Hold(Ms),
}

fn amounts() -> impl Strategy<Value = Amounts> {
    (0u64..40, 0u64..40).prop_map(|(tokens, usd_micros)| Amounts { tokens, usd_micros })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..400).prop_map(Op::Advance),
        4 => amounts().prop_map(Op::Arrive),
        3 => (0usize..4).prop_map(Op::Retry),
        3 => (0usize..8, amounts()).prop_map(|(i, a)| Op::End(i, a)),
        1 => (0usize..8).prop_map(Op::Leave),
        1 => (0u64..800).prop_map(Op::Hold),
    ]
}

fn limits() -> impl Strategy<Value = Limits> {
    let period = prop_oneof![Just(100u64), Just(250), Just(1000)];
    (
        proptest::option::of((1u64..6, period.clone())),
        proptest::option::of((20u64..100, period.clone())),
        proptest::option::of((20u64..100, period)),
        proptest::option::of(0u32..4),
    )
        .prop_map(|(requests, tokens, usd, concurrent)| {
            let ms = Duration::from_millis;
            let mut limits = Limits::new();
            if let Some((n, p)) = requests {
                limits = limits.requests(n, ms(p));
            }
            if let Some((n, p)) = tokens {
                limits = limits.tokens(n, ms(p));
            }
            if let Some((n, p)) = usd {
                limits = limits.usd_micros(n, ms(p));
            }
            if let Some(n) = concurrent {
                limits = limits.concurrent(n);
            }
            limits
        })
}

/// Verdicts compared without the ledger's wording of why a request is too large.
fn same(ledger: &Verdict, model: &Verdict) -> bool {
    match (ledger, model) {
        (Verdict::TooLarge(_), Verdict::TooLarge(_)) => true,
        _ => ledger == model,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_ledger_decides_as_the_model(limits in limits(), ops in proptest::collection::vec(op(), 1..120)) {
        let mut ledger = Ledger::new(&limits);
        let mut model = Model { limits: limits.clone(), grants: Vec::new(), line: VecDeque::new(), held_until: 0 };
        let mut now: Ms = 1_000;
        let mut next_ticket = 1;
        let mut asks = std::collections::HashMap::new();
        for op in ops {
            match op {
                Op::Advance(ms) => now += ms,
                Op::Arrive(ask) => {
                    let ticket = next_ticket;
                    next_ticket += 1;
                    asks.insert(ticket, ask);
                    let (got, want) = (ledger.admit(ticket, ask, now), model.admit(ticket, ask, now));
                    prop_assert!(same(&got, &want), "arrival {ticket} {ask:?} at {now}: ledger {got:?}, model {want:?}");
                }
                Op::Retry(n) => {
                    let Some(&ticket) = model.line.get(n) else { continue };
                    let ask = asks[&ticket];
                    let (got, want) = (ledger.admit(ticket, ask, now), model.admit(ticket, ask, now));
                    prop_assert!(same(&got, &want), "retry of {ticket} at {now}: ledger {got:?}, model {want:?}");
                }
                Op::End(n, used) => {
                    let live: Vec<usize> = (0..model.grants.len()).filter(|&i| model.grants[i].used.is_none()).collect();
                    let Some(&i) = live.get(n) else { continue };
                    model.grants[i].used = Some(used);
                    ledger.end(model.grants[i].ticket, used);
                    // Ending twice changes nothing.
                    ledger.end(model.grants[i].ticket, Amounts { tokens: 999, usd_micros: 999 });
                }
                Op::Leave(n) => {
                    let Some(&ticket) = model.line.get(n) else { continue };
                    model.line.retain(|&t| t != ticket);
                    ledger.leave(ticket);
                }
                Op::Hold(ms) => {
                    model.held_until = model.held_until.max(now + ms);
                    ledger.hold(now + ms);
                }
            }
            prop_assert_eq!(ledger.head(), model.line.front().copied());
            prop_assert_eq!(ledger.streams(), model.live());
            let sums = ledger.windows(now);
            for (rate, (seen, sum)) in limits.rates().iter().zip(sums) {
                prop_assert_eq!(&seen, rate);
                prop_assert_eq!(sum, model.in_window(rate, now), "{:?} at {}", rate, now);
            }
        }
    }
}

#[test]
fn a_request_larger_than_a_limit_is_never_admitted() {
    let mut ledger = Ledger::new(&Limits::new().tokens(100, Duration::from_secs(60)));
    let big = Amounts {
        tokens: 101,
        usd_micros: 0,
    };
    match ledger.admit(1, big, 0) {
        Verdict::TooLarge(why) => assert!(why.contains("needs 101 tokens"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(ledger.head(), None, "it does not hold the line");
}

#[test]
fn a_requests_window_is_exact_at_its_edge() {
    let mut ledger = Ledger::new(&Limits::new().requests(2, Duration::from_secs(1)));
    let none = Amounts::default();
    assert_eq!(ledger.admit(1, none, 0), Verdict::Admitted);
    assert_eq!(ledger.admit(2, none, 500), Verdict::Admitted);
    assert_eq!(
        ledger.admit(3, none, 999),
        Verdict::Wait {
            retry_in: Some(1),
            held: false
        }
    );
    // Arrivals behind wait their turn, even with room for them.
    assert_eq!(ledger.head(), Some(3));
    assert_eq!(ledger.admit(3, none, 1000), Verdict::Admitted);
    assert_eq!(ledger.head(), None);
}

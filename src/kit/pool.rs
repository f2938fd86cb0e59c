//! [`Pool`]: the endpoints (base URLs) of one provider, and which one a request goes to.
//!
//! Each new attempt goes to the endpoint with the fewest requests in flight (ties taken
//! in turn). An endpoint that fails with a retryable error before any content (refused
//! connections, 5xx, 429) is cooled down: skipped for a while, 1 s after the first
//! failure, doubling up to 60 s; then tried again with one request at a time until one
//! succeeds. When every endpoint is cooling down, the one that has waited longest is
//! tried anyway: a pool never fails a request without sending it. A retried request
//! goes, by the same rule, to another endpoint.
//!
//! This is a client-side spread over a handful of servers, not a load balancer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::http::Endpoint;

use super::base_url::BaseUrl;

/// The first cooldown; each further failure doubles it.
const FIRST_COOLDOWN: Duration = Duration::from_secs(1);
/// The longest cooldown.
const MAX_COOLDOWN: Duration = Duration::from_secs(60);

/// One endpoint of a pool.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) base: BaseUrl,
    pub(crate) endpoint: Endpoint,
    /// The HTTP client for this endpoint: proxies apply to remote endpoints only.
    pub(crate) client: reqwest::Client,
    in_flight: AtomicUsize,
    health: Mutex<Health>,
}

#[derive(Debug, Default)]
struct Health {
    /// Failures since the last success.
    failures: u32,
    /// Skipped until then.
    cooled_until: Option<Instant>,
}

impl Member {
    pub(crate) fn new(base: BaseUrl, endpoint: Endpoint, client: reqwest::Client) -> Member {
        Member {
            base,
            endpoint,
            client,
            in_flight: AtomicUsize::new(0),
            health: Mutex::new(Health::default()),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        // A panic elsewhere cannot leave the counts inconsistent: keep using them.
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a new request may go here now: not cooling down, and, after a cooldown
    /// until a success, only one request at a time.
    fn available(&self, now: Instant) -> bool {
        let health = self.health();
        match health.cooled_until {
            Some(until) if until > now => false,
            Some(_) => self.in_flight.load(Ordering::Relaxed) == 0,
            None => true,
        }
    }

    /// The endpoint answered with content: healthy again.
    pub(crate) fn succeeded(&self) {
        let mut health = self.health();
        health.failures = 0;
        health.cooled_until = None;
    }

    /// The endpoint failed before any content with an error another endpoint might not
    /// have: cool it down.
    pub(crate) fn failed(&self) {
        let mut health = self.health();
        health.failures = health.failures.saturating_add(1);
        let doublings = health.failures.saturating_sub(1).min(16);
        let wait = FIRST_COOLDOWN
            .saturating_mul(1 << doublings)
            .min(MAX_COOLDOWN);
        health.cooled_until = Some(Instant::now() + wait);
    }

    /// The base URL as shown (secrets redacted).
    pub(crate) fn shown(&self) -> &str {
        self.endpoint.origin.base()
    }
}

/// The endpoints of a provider (at least one).
#[derive(Debug)]
pub(crate) struct Pool {
    members: Vec<Arc<Member>>,
    /// Where the next tie-break starts, so that equal endpoints take turns.
    turn: AtomicUsize,
}

impl Pool {
    /// A pool of `members`; the first is the provider's base URL.
    pub(crate) fn new(members: Vec<Member>) -> Pool {
        Pool {
            members: members.into_iter().map(Arc::new).collect(),
            turn: AtomicUsize::new(0),
        }
    }

    /// The first endpoint: the provider's base URL.
    pub(crate) fn first(&self) -> &Arc<Member> {
        &self.members[0]
    }

    /// Every endpoint, in the order given.
    pub(crate) fn members(&self) -> &[Arc<Member>] {
        &self.members
    }

    /// The endpoint for a new attempt, counted in flight until the lease is dropped.
    pub(crate) fn lease(&self) -> Lease {
        let member = if self.members.len() == 1 {
            self.members[0].clone()
        } else {
            self.choose()
        };
        member.in_flight.fetch_add(1, Ordering::Relaxed);
        Lease { member }
    }

    fn choose(&self) -> Arc<Member> {
        let now = Instant::now();
        let count = self.members.len();
        let start = self.turn.fetch_add(1, Ordering::Relaxed) % count;
        let in_turn = (0..count).map(|i| &self.members[(start + i) % count]);
        let available = in_turn
            .clone()
            .filter(|m| m.available(now))
            .min_by_key(|m| m.in_flight.load(Ordering::Relaxed));
        match available {
            Some(member) => member.clone(),
            // All cooling down: the one whose cooldown ends first.
            None => in_turn
                .min_by_key(|m| m.health().cooled_until)
                .unwrap_or(&self.members[0])
                .clone(),
        }
    }
}

/// An endpoint chosen for one attempt; counted in flight while it lives.
#[derive(Debug)]
pub(crate) struct Lease {
    pub(crate) member: Arc<Member>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.member.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::Origin;

    fn pool(n: usize) -> Pool {
        Pool::new(
            (0..n)
                .map(|i| {
                    let url = format!("http://127.0.0.1:{}/v1", 9000 + i);
                    let base = BaseUrl::parse(&url, "p", "the base URL", "").unwrap();
                    let origin = Origin::new("p", base.shown());
                    Member::new(base, Endpoint::new(origin, "hint"), reqwest::Client::new())
                })
                .collect(),
        )
    }

    fn port(lease: &Lease) -> u16 {
        reqwest::Url::parse(&lease.member.base.url)
            .unwrap()
            .port()
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn fewest_in_flight_then_turns() {
        let pool = pool(3);
        let a = pool.lease();
        let b = pool.lease();
        let c = pool.lease();
        let mut ports = vec![port(&a), port(&b), port(&c)];
        ports.sort_unstable();
        assert_eq!(ports, [9000, 9001, 9002], "one each while all are busy");
        drop(b);
        let d = pool.lease();
        assert_eq!(port(&d), 9001, "the one with none in flight");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_endpoint_cools_down_then_gets_one_probe() {
        let pool = pool(2);
        pool.members()[0].failed();
        for _ in 0..10 {
            assert_eq!(port(&pool.lease()), 9001, "skipped while cooling down");
        }
        tokio::time::advance(FIRST_COOLDOWN + Duration::from_millis(1)).await;
        let probe = pool.lease();
        let other = pool.lease();
        let ports = [port(&probe), port(&other)];
        assert!(
            ports.contains(&9000),
            "tried again after the cooldown: {ports:?}"
        );
        // While its probe is in flight, it takes no other request.
        let probing = if port(&probe) == 9000 { &probe } else { &other };
        assert_eq!(probing.member.in_flight.load(Ordering::Relaxed), 1);
        assert_eq!(port(&pool.lease()), 9001);
        // A second failure doubles the wait.
        pool.members()[0].failed();
        tokio::time::advance(FIRST_COOLDOWN + Duration::from_millis(1)).await;
        assert!(!pool.members()[0].available(Instant::now()));
        pool.members()[0].succeeded();
        assert!(pool.members()[0].available(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn when_all_cool_down_the_one_waiting_longest_is_tried() {
        let pool = pool(2);
        pool.members()[1].failed();
        tokio::time::advance(Duration::from_millis(100)).await;
        pool.members()[0].failed();
        assert_eq!(port(&pool.lease()), 9001);
        // Many failures never overflow the wait.
        for _ in 0..100 {
            pool.members()[0].failed();
        }
        let until = pool.members()[0].health().cooled_until.unwrap();
        assert!(until <= Instant::now() + MAX_COOLDOWN);
    }
}

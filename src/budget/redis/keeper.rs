//! What runs beside the requests of a shared budget, one task each per budget (not per
//! request: a stream never spawns): the keeper sends what streams could not wait for
//! (a grant's end, from a `Drop`; a hold; a waiter leaving the line) and renews the
//! leases of the streams alive; the listener wakes this process's waiters when another
//! process publishes that the books changed.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::Notify;

use super::super::ledger::Amounts;
use super::conn::Conn;

/// How long the listener waits before it connects again after losing Redis.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// The work waiting for the keeper, and the grants whose leases it renews.
#[derive(Debug, Default)]
struct Pending {
    ends: Vec<(u64, Amounts)>,
    leaves: Vec<u64>,
    hold_ms: Option<u64>,
    live: HashSet<u64>,
    closed: bool,
}

/// Shared by a budget's handle, its keeper and its listener.
#[derive(Debug, Default)]
pub(crate) struct Keeper {
    pending: Mutex<Pending>,
    /// Wakes the keeper: there is work.
    work: Notify,
    /// Wakes this process's waiters: the books changed.
    pub(crate) books_changed: Notify,
    /// Tells the listener the budget is gone.
    closed: Notify,
}

impl Keeper {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A grant was admitted: its lease is renewed from now on.
    pub(crate) fn admitted(&self, grant: u64) {
        self.pending().live.insert(grant);
    }

    /// A grant ended, having used `used`: sent at once, its lease no longer renewed.
    pub(crate) fn end(&self, grant: u64, used: Amounts) {
        let mut pending = self.pending();
        pending.live.remove(&grant);
        pending.ends.push((grant, used));
        drop(pending);
        self.work.notify_one();
    }

    /// A waiter gave up its place in line.
    pub(crate) fn leave(&self, ticket: u64) {
        self.pending().leaves.push(ticket);
        self.work.notify_one();
    }

    /// Nothing is to be admitted for `ms`.
    pub(crate) fn hold(&self, ms: u64) {
        let mut pending = self.pending();
        pending.hold_ms = Some(pending.hold_ms.map_or(ms, |h| h.max(ms)));
        drop(pending);
        self.work.notify_one();
    }

    /// The budget is gone: the keeper sends what is pending and stops, the listener stops.
    pub(crate) fn close(&self) {
        self.pending().closed = true;
        self.work.notify_one();
        self.closed.notify_waiters();
    }

    fn is_closed(&self) -> bool {
        self.pending().closed
    }
}

/// The keeper: sends ends, leaves and holds as they come, renews the live grants'
/// leases every third of a lease; stops once the budget is gone and nothing is pending.
/// A command that fails is not retried: a lease lapses, a window forgets, by themselves.
pub(crate) async fn keep(conn: Arc<Conn>, keeper: Arc<Keeper>) {
    let every = conn.lease / 3;
    let mut next_renewal = tokio::time::Instant::now() + every;
    loop {
        let (ends, leaves, hold, closed) = {
            let mut pending = keeper.pending();
            (
                std::mem::take(&mut pending.ends),
                std::mem::take(&mut pending.leaves),
                pending.hold_ms.take(),
                pending.closed,
            )
        };
        let changed = !ends.is_empty() || !leaves.is_empty();
        for (grant, used) in ends {
            let extra = [grant, used.tokens, used.usd_micros].map(|n| n.to_string());
            let _ = conn.call::<i64>("end", &extra).await;
        }
        for ticket in leaves {
            let _ = conn.call::<i64>("leave", &[ticket.to_string()]).await;
        }
        if let Some(ms) = hold {
            let _ = conn.call::<i64>("hold", &[ms.to_string()]).await;
        }
        if changed {
            keeper.books_changed.notify_waiters();
        }
        if closed {
            return;
        }
        if tokio::time::Instant::now() >= next_renewal {
            let live: Vec<String> = keeper.pending().live.iter().map(u64::to_string).collect();
            for slice in live.chunks(500) {
                let _ = conn.call::<i64>("renew", slice).await;
            }
            next_renewal = tokio::time::Instant::now() + every;
        }
        let work = keeper.work.notified();
        let _ = tokio::time::timeout_at(next_renewal, work).await;
    }
}

/// The listener: on every publish that the books changed, wakes this process's waiters.
/// Connects again after a pause when Redis goes away; stops once the budget is gone.
pub(crate) async fn listen(client: redis::Client, channel: String, keeper: Arc<Keeper>) {
    while !keeper.is_closed() {
        let closed = keeper.closed.notified();
        tokio::pin!(closed);
        closed.as_mut().enable();
        if keeper.is_closed() {
            return;
        }
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await.ok()?;
            pubsub.subscribe(&channel).await.ok()?;
            let mut messages = pubsub.on_message();
            while messages.next().await.is_some() {
                keeper.books_changed.notify_waiters();
            }
            Some(())
        };
        tokio::select! {
            () = &mut closed => return,
            _ = subscribed => {}
        }
        // Redis went away (or never came): waiters poll meanwhile.
        tokio::select! {
            () = &mut closed => return,
            () = tokio::time::sleep(RECONNECT_PAUSE) => {}
        }
    }
}

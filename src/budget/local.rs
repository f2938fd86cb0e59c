//! [`Local`]: a budget kept in this process: the [`Ledger`] behind a mutex, and the
//! waker of the first waiter in line, woken whenever the books change.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::error::Result;

use super::ledger::{Amounts, Ledger, Ms, Spent, Verdict};
use super::limits::Limits;
use super::wait::{too_large, waited_too_long, Admitted, Deadline};

/// The books and who waits on them.
#[derive(Debug)]
struct Books {
    ledger: Ledger,
    /// The wakers of waiting tickets; only the head's is ever woken.
    wakers: HashMap<u64, Waker>,
    next_ticket: u64,
}

impl Books {
    /// Wakes the first in line: the books changed, it may go now.
    fn wake_head(&mut self) {
        if let Some(head) = self.ledger.head() {
            if let Some(waker) = self.wakers.remove(&head) {
                waker.wake();
            }
        }
    }
}

/// A budget kept in this process.
#[derive(Debug)]
pub(crate) struct Local {
    books: Mutex<Books>,
    /// The ledger's clock starts here.
    origin: Instant,
}

impl Local {
    pub(crate) fn new(limits: &Limits) -> Local {
        Local {
            books: Mutex::new(Books {
                ledger: Ledger::new(limits),
                wakers: HashMap::new(),
                next_ticket: 1,
            }),
            origin: Instant::now(),
        }
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        // The books stay consistent through a panic elsewhere: every change is one call.
        self.books
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now(&self) -> Ms {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Waits for admission of `ask`, in line, until `deadline`.
    pub(crate) fn admit(self: &Arc<Local>, ask: Amounts, deadline: Deadline) -> LocalAdmission {
        let ticket = {
            let mut books = self.books();
            let ticket = books.next_ticket;
            books.next_ticket = ticket.wrapping_add(1);
            ticket
        };
        LocalAdmission {
            store: self.clone(),
            ticket,
            ask,
            deadline,
            retry: None,
            over: false,
            waited: false,
        }
    }

    /// Ends grant `ticket`, which used `used`.
    pub(crate) fn end(&self, ticket: u64, used: Amounts) {
        let mut books = self.books();
        books.ledger.end(ticket, used);
        books.wake_head();
    }

    /// Admits nothing for `wait`.
    pub(crate) fn hold(&self, wait: Duration) {
        let until = self
            .now()
            .saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
        self.books().ledger.hold(until);
    }

    /// What the budget holds now.
    pub(crate) fn spent(&self) -> Spent {
        let now = self.now();
        let mut books = self.books();
        Spent {
            streams: books.ledger.streams() as u64,
            windows: books.ledger.windows(now),
        }
    }
}

/// Waiting in line for a local budget: poll-driven, woken by the books when they
/// change, by its own timer when the windows will have room, and by its deadline.
/// Dropped while waiting, it leaves the line.
#[derive(Debug)]
pub(crate) struct LocalAdmission {
    store: Arc<Local>,
    ticket: u64,
    ask: Amounts,
    deadline: Deadline,
    /// When the windows will have room.
    retry: Option<Pin<Box<Sleep>>>,
    /// Admitted or failed: nothing to leave.
    over: bool,
    /// It was told to wait.
    waited: bool,
}

impl Future for LocalAdmission {
    /// The grant's ticket.
    type Output = Result<Admitted>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Admitted>> {
        let this = &mut *self;
        loop {
            let verdict = {
                let mut books = this.store.books();
                let now = this.store.now();
                let verdict = books.ledger.admit(this.ticket, this.ask, now);
                match &verdict {
                    Verdict::Admitted => {
                        books.wakers.remove(&this.ticket);
                        // The next in line may fit too.
                        books.wake_head();
                    }
                    Verdict::Wait { .. } => {
                        books.wakers.insert(this.ticket, cx.waker().clone());
                    }
                    Verdict::TooLarge(_) => {}
                }
                verdict
            };
            let (retry_in, held) = match verdict {
                Verdict::Admitted => {
                    this.over = true;
                    return Poll::Ready(Ok(Admitted {
                        ticket: Some(this.ticket),
                        waited: this.waited,
                    }));
                }
                Verdict::TooLarge(why) => {
                    this.over = true;
                    return Poll::Ready(Err(too_large(&why)));
                }
                Verdict::Wait { retry_in, held } => (retry_in, held),
            };
            this.waited = true;
            let retry_at = retry_in.map(|ms| Instant::now() + Duration::from_millis(ms));
            // A hold that outlasts the deadline is not waited out.
            if held && retry_at.is_some_and(|at| at > this.deadline.at) {
                return Poll::Ready(Err(this.fail(retry_in)));
            }
            if this.deadline.poll(cx).is_ready() {
                return Poll::Ready(Err(this.fail(retry_in)));
            }
            let Some(at) = retry_at else {
                this.retry = None;
                return Poll::Pending;
            };
            let timer = this
                .retry
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
            timer.as_mut().reset(at);
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl LocalAdmission {
    /// Gives up: out of line, with the error that says how long it waited.
    fn fail(&mut self, retry_in: Option<Ms>) -> crate::error::Error {
        self.leave();
        waited_too_long(&self.deadline, retry_in.map(Duration::from_millis))
    }

    fn leave(&mut self) {
        if std::mem::replace(&mut self.over, true) {
            return;
        }
        let mut books = self.store.books();
        books.wakers.remove(&self.ticket);
        let was_head = books.ledger.head() == Some(self.ticket);
        books.ledger.leave(self.ticket);
        if was_head {
            books.wake_head();
        }
    }
}

impl Drop for LocalAdmission {
    fn drop(&mut self) {
        self.leave();
    }
}

//! [`Store`]: where a budget's books are kept: in this process ([`Local`]), or on a
//! Redis server that every process of the budget shares (feature `redis`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::error::Result;

use super::ledger::{Amounts, Spent};
use super::local::{Local, LocalAdmission};
use super::wait::{Admitted, Deadline};

/// Where a budget's books are kept.
#[derive(Debug, Clone)]
pub(crate) enum Store {
    Local(Arc<Local>),
    #[cfg(feature = "redis")]
    Redis(Arc<super::redis::Remote>),
}

impl Store {
    /// Waits for admission of `ask`, until `deadline`.
    pub(crate) fn admit(&self, ask: Amounts, deadline: Deadline) -> Admission {
        match self {
            Store::Local(local) => Admission::Local(local.admit(ask, deadline)),
            #[cfg(feature = "redis")]
            Store::Redis(remote) => {
                Admission::Remote(Box::pin(remote.clone().admit(ask, deadline)))
            }
        }
    }

    /// Ends grant `ticket`, which used `used`: its stream's slot comes back, and its
    /// reservation becomes `used`.
    pub(crate) fn end(&self, ticket: u64, used: Amounts) {
        match self {
            Store::Local(local) => local.end(ticket, used),
            #[cfg(feature = "redis")]
            Store::Redis(remote) => remote.end(ticket, used),
        }
    }

    /// Admits nothing for `wait`.
    pub(crate) fn hold(&self, wait: Duration) {
        match self {
            Store::Local(local) => local.hold(wait),
            #[cfg(feature = "redis")]
            Store::Redis(remote) => remote.hold(wait),
        }
    }

    /// What the budget holds now.
    pub(crate) async fn spent(&self) -> Result<Spent> {
        match self {
            Store::Local(local) => Ok(local.spent()),
            #[cfg(feature = "redis")]
            Store::Redis(remote) => remote.spent().await,
        }
    }
}

/// Waiting for admission.
pub(crate) enum Admission {
    Local(LocalAdmission),
    #[cfg(feature = "redis")]
    Remote(futures::future::BoxFuture<'static, Result<Admitted>>),
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Admission::Local(local) => local.fmt(f),
            #[cfg(feature = "redis")]
            Admission::Remote(_) => f.write_str("Admission::Remote"),
        }
    }
}

impl Future for Admission {
    type Output = Result<Admitted>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Admission::Local(local) => Pin::new(local).poll(cx),
            #[cfg(feature = "redis")]
            Admission::Remote(remote) => remote.as_mut().poll(cx),
        }
    }
}

//! [`Attempt`]: one attempt as one stream. The request in flight, then its reply's
//! frames decoded; the endpoint told how it went, each finish annotated, every item
//! scrubbed of secrets.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures::Stream;
use pin_project::pin_project;

use crate::chunk::Chunk;
use crate::decode::{Decoded, Decoder};
use crate::error::{Error, ErrorKind, Result};
use crate::rate_limit::RateLimit;
use crate::redact::Redactor;

use super::pool::{Lease, Member};

/// One attempt: `Fut` sends the request and resolves to the reply being received.
///
/// Hand-written rather than `once(sent).try_flatten().map(..)`: every layer of a chunk
/// stream is a call per item and another per wait, and these are three.
#[pin_project(project = AttemptProj)]
#[allow(
    clippy::large_enum_variant,
    reason = "the reply's state is where the attempt spends its life, read once per item"
)]
pub(super) enum Attempt<Fut, F, D> {
    /// The request is in flight (sending, or adapting it once after a refusal). Boxed:
    /// the HTTP client's future is several times the size of a reply's state, and is
    /// freed once the reply arrives.
    Sending(Pin<Box<Fut>>),
    /// The reply is arriving.
    Receiving(#[pin] Receiving<F, D>),
    /// The request failed before a reply; that error was delivered.
    Done,
}

impl<Fut, F, D> Attempt<Fut, F, D> {
    pub(super) fn new(sending: Fut) -> Attempt<Fut, F, D> {
        Attempt::Sending(Box::pin(sending))
    }
}

/// A reply being received: its frames decoded, and what each item needs beyond that.
#[pin_project]
pub(super) struct Receiving<F, D> {
    #[pin]
    decoded: Decoded<F, D>,
    outcome: Outcome,
    redactor: Redactor,
    /// The rate limits the response's headers reported. Boxed: few servers send them,
    /// and every open stream would carry their 192 bytes.
    limits: Option<Box<RateLimit>>,
}

impl<F, D> Receiving<F, D> {
    /// `frames` decoded by `decoder`, under `lease` (the endpoint that accepted).
    pub(super) fn new(
        frames: F,
        decoder: D,
        lease: Lease,
        redactor: Redactor,
        limits: Option<RateLimit>,
    ) -> Receiving<F, D> {
        Receiving {
            decoded: Decoded::new(frames, decoder),
            outcome: Outcome { lease, told: false },
            redactor,
            limits: limits.map(Box::new),
        }
    }
}

impl<Fut, F, D> Stream for Attempt<Fut, F, D>
where
    Fut: Future<Output = Result<Receiving<F, D>>>,
    F: Stream<Item = Result<Bytes>>,
    D: Decoder,
{
    type Item = Result<Chunk>;

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match self.as_mut().project() {
                AttemptProj::Receiving(receiving) => {
                    let receiving = receiving.project();
                    let item = ready!(receiving.decoded.poll_next(cx));
                    return Poll::Ready(item.map(|item| {
                        let outcome = receiving.outcome;
                        outcome.observe(&item);
                        if matches!(
                            &item,
                            Ok(Chunk::Text(_)
                                | Chunk::Reasoning(_)
                                | Chunk::Refusal(_)
                                | Chunk::ToolCallDelta(_))
                        ) {
                            // The model's output passes as it is; what the server says
                            // about it (ids, names, the finish) is scrubbed of secrets,
                            // and a finish or an error annotated.
                            return item;
                        }
                        let item = annotate(
                            item,
                            receiving.limits.as_deref().copied(),
                            &outcome.lease.member,
                        );
                        receiving.redactor.item(item)
                    }));
                }
                AttemptProj::Sending(_) => {
                    if let Some(error) = ready!(self.as_mut().poll_sending(cx)) {
                        return Poll::Ready(Some(Err(error)));
                    }
                }
                AttemptProj::Done => return Poll::Ready(None),
            }
        }
    }
}

impl<Fut, F, D> Attempt<Fut, F, D>
where
    Fut: Future<Output = Result<Receiving<F, D>>>,
{
    /// Polls the request in flight; on a reply, receiving starts, on a failure the
    /// attempt is done and that is the error. Never inlined: the HTTP client's future
    /// needs kilobytes of stack, which the per-item poll would otherwise reserve (and
    /// touch) on every item.
    #[inline(never)]
    fn poll_sending(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Error>> {
        let AttemptProj::Sending(sending) = self.as_mut().project() else {
            return Poll::Ready(None);
        };
        match ready!(sending.as_mut().poll(cx)) {
            Ok(receiving) => {
                self.set(Attempt::Receiving(receiving));
                Poll::Ready(None)
            }
            Err(error) => {
                self.set(Attempt::Done);
                Poll::Ready(Some(error))
            }
        }
    }
}

/// Whether an error says more about the endpoint than about the request: another
/// endpoint might not have it.
pub(super) fn cools_down(error: &Error) -> bool {
    error.is_retryable()
        || matches!(
            error.kind(),
            ErrorKind::ProviderUnavailable | ErrorKind::Network | ErrorKind::Timeout
        )
}

/// How an attempt went, told to its endpoint once; the attempt's lease.
struct Outcome {
    lease: Lease,
    told: bool,
}

impl Outcome {
    #[inline]
    fn observe(&mut self, item: &Result<Chunk>) {
        if !self.told {
            self.told = true;
            let member = &self.lease.member;
            match item {
                Ok(_) => member.succeeded(),
                Err(error) if cools_down(error) => member.failed(),
                Err(_) => {}
            }
        }
    }
}

/// What the response tells beyond its body, on its finish: the rate limits and the
/// endpoint that served it; the rate limits on its error.
fn annotate(item: Result<Chunk>, limits: Option<RateLimit>, served_by: &Member) -> Result<Chunk> {
    match item {
        Ok(Chunk::Finish(mut finish)) => {
            if let (None, Some(limits)) = (&finish.rate_limit, limits) {
                finish.rate_limit = Some(limits);
            }
            if finish.endpoint.is_none() {
                finish.endpoint = Some(served_by.shown().to_owned());
            }
            Ok(Chunk::Finish(finish))
        }
        Err(error) => match limits {
            Some(limits) if error.rate_limit().is_none() => Err(error.with_rate_limit(limits)),
            _ => Err(error),
        },
        other => other,
    }
}

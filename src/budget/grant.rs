//! [`Grant`]: an admitted request's share of a budget, held while its stream lives and
//! given back when it ends, however it ends: the finish settles it at the reply's real
//! usage; a failure, a cancellation or a dropped stream settle it at what was seen, and
//! release the stream's slot, at once (in `Drop`, so that no path can leak one).

use crate::chunk::{Chunk, Finish};
use crate::pricing::{Pricing, TokenCounts};
use crate::usage::token_counts;

use super::ledger::Amounts;
use super::store::Store;

/// What a grant needs to know to price what its stream used.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meter {
    pub(crate) prompt_tokens: u64,
    pub(crate) pricing: Pricing,
}

/// An admitted request's share of a budget.
#[derive(Debug)]
pub(crate) struct Grant {
    /// `None`: admitted without the books (a shared budget that fails open).
    store: Option<Store>,
    ticket: u64,
    meter: Meter,
    /// Characters of output seen (text, reasoning, refusal, tool arguments).
    output_chars: u64,
    /// Anything was delivered: the server read the prompt.
    delivered: bool,
    ended: bool,
}

impl Grant {
    pub(crate) fn new(store: Option<Store>, ticket: u64, meter: Meter) -> Grant {
        Grant {
            store,
            ticket,
            meter,
            output_chars: 0,
            delivered: false,
            ended: false,
        }
    }

    /// Counts what `chunk` delivers.
    pub(crate) fn observe(&mut self, chunk: &Chunk) {
        let text = match chunk {
            Chunk::Text(t) | Chunk::Reasoning(t) | Chunk::Refusal(t) => t.as_str(),
            Chunk::ToolCallDelta(delta) => delta.arguments.as_str(),
            _ => "",
        };
        self.delivered = true;
        let chars = u64::try_from(text.chars().count()).unwrap_or(u64::MAX);
        self.output_chars = self.output_chars.saturating_add(chars);
    }

    /// The reply finished: settles at its usage (the counts it reported, else the
    /// collector's estimates), priced as the reply is.
    pub(crate) fn finish(mut self, finish: &Finish) {
        let chars = usize::try_from(self.output_chars).unwrap_or(usize::MAX);
        let (counts, _) = token_counts(Some(finish), self.meter.prompt_tokens, || chars);
        let pricing = finish
            .route
            .as_ref()
            .map_or(self.meter.pricing, |route| route.pricing);
        let used = Amounts {
            tokens: counts.input.saturating_add(counts.output),
            usd_micros: pricing.cost(&counts),
        };
        self.end(used);
    }

    /// What was seen, for a stream that did not finish: the prompt if anything came
    /// back (the server read it), and the output delivered, estimated at four
    /// characters a token.
    fn seen(&self) -> Amounts {
        let input = if self.delivered {
            self.meter.prompt_tokens
        } else {
            0
        };
        let counts = TokenCounts::new(input, self.output_chars.div_ceil(4));
        Amounts {
            tokens: counts.input.saturating_add(counts.output),
            usd_micros: self.meter.pricing.cost(&counts),
        }
    }

    fn end(&mut self, used: Amounts) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        if let Some(store) = &self.store {
            store.end(self.ticket, used);
        }
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        let seen = self.seen();
        self.end(seen);
    }
}

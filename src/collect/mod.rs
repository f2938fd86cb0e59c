//! The collect stage: [`Collector`] folds a stream of chunks into a [`ChatReply`]
//! (`reply.rs`) with [`Usage`] (`usage.rs`).

mod reply;

use tokio::time::Instant;

use crate::chunk::{Chunk, Finish, FinishReason, ToolCall};
use crate::error::{Error, ErrorKind, Result};
use crate::partial::PartialReply;
use crate::stream::{ChatStream, StreamInfo};
use crate::usage::{token_counts, Usage};

pub use reply::ChatReply;

impl ChatStream {
    /// Drives the stream to its end and folds it into a [`ChatReply`]
    /// (what [`LlmStreamProvider::chat`](crate::LlmStreamProvider::chat) does).
    ///
    /// # Errors
    /// The stream's error, or the collector's (a reply over its cap, a missing finish).
    /// A failure after some output carries what had arrived
    /// ([`Error::partial`](crate::Error::partial)).
    pub async fn reply(mut self) -> Result<ChatReply> {
        let mut collector = Collector::for_stream(&self);
        while let Some(item) = futures::StreamExt::next(&mut self).await {
            let pushed = item.and_then(|chunk| collector.push(&chunk));
            if let Err(error) = pushed {
                return Err(collector.attach_partial(error));
            }
        }
        collector.finish()
    }
}

/// Folds chunks into a [`ChatReply`]. [`LlmStreamProvider::chat`](crate::LlmStreamProvider::chat)
/// uses one; apps that show tokens live can feed their own and get the same reply and
/// usage at the end.
///
/// ```
/// use futures::StreamExt;
/// use theory_llm::{Chunk, Collector, LlmStreamProvider, MockProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let llm = MockProvider::builder().reply("Hi there").build();
/// let mut stream = llm.stream_chat("Hello".into());
/// let mut collector = Collector::for_stream(&stream);
/// while let Some(chunk) = stream.next().await {
///     let chunk = chunk?;
///     if let Chunk::Text(text) = &chunk {
///         print!("{text}"); // live display
///     }
///     collector.push(&chunk)?;
/// }
/// let reply = collector.finish()?;
/// assert_eq!(reply.text, "Hi there");
/// assert!(reply.usage.ttft_ms.unwrap() <= reply.usage.latency_ms);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Collector {
    info: StreamInfo,
    started: Instant,
    text: String,
    reasoning: String,
    refusal: String,
    tool_calls: Vec<ToolCall>,
    /// Bytes taken so far (text, reasoning, refusal, tool arguments), for the cap.
    held: usize,
    first_text: Option<Instant>,
    finished: Option<(Finish, Instant)>,
}

/// The error for a reply past its cap.
fn too_long(provider: &str, limit: usize) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!(
            "the {provider} reply is longer than the limit of {limit} bytes on a collected reply (max_reply_bytes): raise the limit, or read the stream chunk by chunk with stream_chat"
        ),
    )
}

impl Collector {
    /// A collector for `stream`, timing from the call that made the stream.
    pub fn for_stream(stream: &ChatStream) -> Collector {
        Collector::with_start(stream.info().clone(), stream.started_at())
    }

    /// A collector for a stream described by `info`, timing from now.
    pub fn new(info: StreamInfo) -> Collector {
        Collector::with_start(info, Instant::now())
    }

    /// A collector for a stream described by `info`, timing from `started`.
    pub fn with_start(info: StreamInfo, started: Instant) -> Collector {
        Collector {
            info,
            started,
            text: String::new(),
            reasoning: String::new(),
            refusal: String::new(),
            tool_calls: Vec::new(),
            held: 0,
            first_text: None,
            finished: None,
        }
    }

    /// Takes one chunk. The time of the first text and of the finish are read from the
    /// clock here, so push chunks as they arrive.
    ///
    /// # Errors
    /// A `protocol` error when what the reply holds (text, reasoning, refusal, tool
    /// arguments) would pass the stream's cap ([`StreamInfo::max_reply_bytes`], 64 MiB
    /// by default); the chunk is not kept.
    pub fn push(&mut self, chunk: &Chunk) -> Result<()> {
        match chunk {
            Chunk::Text(text) => {
                if text.is_empty() {
                    return Ok(());
                }
                self.take(text.len())?;
                if self.first_text.is_none() {
                    self.first_text = Some(Instant::now());
                }
                self.text.push_str(text);
            }
            Chunk::Reasoning(text) => {
                self.take(text.len())?;
                self.reasoning.push_str(text);
            }
            Chunk::Refusal(text) => {
                self.take(text.len())?;
                self.refusal.push_str(text);
            }
            // Counted as they stream; the complete call is what is kept.
            Chunk::ToolCallDelta(delta) => self.take(delta.arguments.len())?,
            Chunk::ToolCall(call) => self.tool_calls.push((**call).clone()),
            Chunk::Finish(finish) => {
                if self.finished.is_none() {
                    self.finished = Some(((**finish).clone(), Instant::now()));
                }
            }
            Chunk::ToolCallStart(_) => {}
        }
        Ok(())
    }

    /// Counts `more` bytes toward the cap.
    fn take(&mut self, more: usize) -> Result<()> {
        let held = self.held.saturating_add(more);
        if held > self.info.max_reply_bytes {
            return Err(too_long(&self.info.provider, self.info.max_reply_bytes));
        }
        self.held = held;
        Ok(())
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What has been pushed so far, as a [`PartialReply`]: for an app that stops
    /// reading, or whose stream failed. Counts the provider did not send are estimated
    /// and flagged.
    pub fn partial(&self) -> PartialReply {
        PartialReply {
            text: self.text.clone(),
            reasoning: self.reasoning.clone(),
            refusal: self.refusal.clone(),
            tool_calls: self.tool_calls.clone(),
            usage: self.usage(None, Instant::now()),
        }
    }

    /// `error` with what has been pushed so far attached, if anything was.
    pub(crate) fn attach_partial(&self, error: Error) -> Error {
        let partial = self.partial();
        if partial.is_empty() {
            error
        } else {
            error.with_partial(partial)
        }
    }

    /// The reply as it stands, for an app that stopped reading before the finish (the
    /// stream dropped, which cancels the request): finish reason
    /// [`Cancelled`](FinishReason::Cancelled), counts estimated where the provider had
    /// not sent them, latency until now.
    pub fn cancel(self) -> ChatReply {
        let now = Instant::now();
        let usage = self.usage(None, now);
        self.into_reply(FinishReason::Cancelled, Finish::default(), usage)
    }

    /// The reply, once a finish chunk has been pushed.
    ///
    /// # Errors
    /// A `protocol` error if no finish was pushed (the stream ended early, so the reply
    /// would be silently truncated).
    pub fn finish(mut self) -> Result<ChatReply> {
        let Some((finish, finished_at)) = self.finished.take() else {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "the {} reply has no finish chunk, so it may be truncated: push every chunk of the stream before calling finish()",
                    self.info.provider
                ),
            ));
        };
        let usage = self.usage(Some(&finish), finished_at);
        // A reply with tool calls ends for tool calls, whatever the server said (also
        // for chunks pushed by an app, which did not pass through a ChatStream).
        let finish_reason = match &finish.reason {
            FinishReason::Stop | FinishReason::Other(_) if !self.tool_calls.is_empty() => {
                FinishReason::ToolCalls
            }
            reason => reason.clone(),
        };
        Ok(self.into_reply(finish_reason, finish, usage))
    }

    /// Tokens, time and cost at `at`: the counts of `finish` where the provider sent
    /// them, else estimated (and flagged).
    fn usage(&self, finish: Option<&Finish>, at: Instant) -> Usage {
        // Milliseconds with microsecond resolution.
        let ms = |t: Instant| t.saturating_duration_since(self.started).as_micros() as f64 / 1000.0;
        let chars = || self.text.chars().count() + self.reasoning.chars().count();
        let (counts, estimated) = token_counts(finish, self.info.prompt_tokens_estimate, chars);
        // A fallback chain's finish says which entry answered, and how it prices.
        let pricing = finish
            .and_then(|f| f.route.as_ref())
            .map_or(self.info.pricing, |route| route.pricing);
        let (usd_micros, cost_basis) = pricing.cost(&counts);
        Usage {
            tokens_in: counts.input,
            tokens_out: counts.output,
            cached_tokens_in: finish.and_then(|f| f.cached_tokens_in),
            cache_write_tokens_in: finish.and_then(|f| f.cache_write_tokens_in),
            reasoning_tokens_out: finish.and_then(|f| f.reasoning_tokens_out),
            latency_ms: ms(at),
            usd_micros,
            ttft_ms: self.first_text.map(ms),
            tokens_estimated: estimated,
            cost_basis,
        }
    }

    fn into_reply(self, finish_reason: FinishReason, finish: Finish, usage: Usage) -> ChatReply {
        let (provider, model, attempts) = match finish.route {
            Some(route) => (route.provider, Some(route.model), route.attempts),
            None => (self.info.provider, None, Vec::new()),
        };
        ChatReply {
            text: self.text,
            reasoning: self.reasoning,
            refusal: self.refusal,
            tool_calls: self.tool_calls,
            provider,
            model: finish.model.or(model).unwrap_or(self.info.model),
            response_id: finish.response_id,
            rate_limit: finish.rate_limit,
            endpoint: finish.endpoint,
            attempts,
            finish_reason,
            usage,
            server_timings: finish.timings,
            reasoning_blocks: finish.reasoning_blocks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::CostBasis;
    use crate::pricing::{Price, Pricing};
    use std::time::Duration;

    fn push(c: &mut Collector, chunk: &Chunk) {
        c.push(chunk).unwrap();
    }

    #[test]
    fn the_reply_cap_counts_text_and_reasoning() {
        // Regression (issue 11): a 300 MiB reply used 606 MB; nothing capped it.
        let mut c = Collector::new(info(Pricing::Free).with_max_reply_bytes(10));
        push(&mut c, &Chunk::Reasoning("abcd".into()));
        push(&mut c, &Chunk::Text("efghij".into()));
        let err = c.push(&Chunk::Text("k".into())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.to_string().contains("limit of 10 bytes"), "{err}");
        assert_eq!(c.text(), "efghij");
    }

    #[test]
    fn absurd_counts_saturate_the_cost() {
        let mut c = Collector::new(info(Pricing::Metered(Price::from_nanos_per_token(
            60_000, 60_000,
        ))));
        push(
            &mut c,
            &Chunk::from(
                Finish::new(FinishReason::Stop).with_tokens(Some(u64::MAX), Some(u64::MAX)),
            ),
        );
        assert_eq!(c.finish().unwrap().usage.usd_micros, u64::MAX);
    }

    fn info(pricing: Pricing) -> StreamInfo {
        StreamInfo::new("p", "m")
            .with_pricing(pricing)
            .with_prompt_tokens_estimate(7)
    }

    #[test]
    fn finish_is_required() {
        let c = Collector::new(info(Pricing::Free));
        assert_eq!(c.finish().unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn reported_counts_are_used_and_priced() {
        let mut c = Collector::new(info(Pricing::Metered(Price::from_nanos_per_token(
            1000, 2000,
        ))));
        push(&mut c, &Chunk::Text("Hel".into()));
        push(&mut c, &Chunk::Text("".into()));
        push(&mut c, &Chunk::Text("lo".into()));
        push(
            &mut c,
            &Chunk::from(
                Finish::new(FinishReason::Length)
                    .with_tokens(Some(10), Some(2))
                    .with_model("m-2024-01-01"),
            ),
        );
        let r = c.finish().unwrap();
        assert_eq!(r.text, "Hello");
        assert_eq!(r.model, "m-2024-01-01");
        assert_eq!(r.finish_reason, FinishReason::Length);
        assert_eq!((r.usage.tokens_in, r.usage.tokens_out), (10, 2));
        assert_eq!(r.usage.usd_micros, 14);
        assert_eq!(r.usage.cost_basis, CostBasis::PriceTable);
        assert!(!r.usage.tokens_estimated);
    }

    #[test]
    fn missing_counts_are_estimated_and_flagged() {
        let mut c = Collector::new(info(Pricing::Unknown));
        push(&mut c, &Chunk::Reasoning("think".into()));
        push(&mut c, &Chunk::Text("abcdefgh".into()));
        push(&mut c, &Chunk::from(Finish::new(FinishReason::Stop)));
        let r = c.finish().unwrap();
        assert!(r.usage.tokens_estimated);
        assert_eq!(r.usage.tokens_in, 7);
        assert_eq!(r.usage.tokens_out, 4); // 13 chars / 4, rounded up
        assert_eq!(r.reasoning, "think");
        assert_eq!(r.usage.cost_basis, CostBasis::UnknownPrice);
    }

    #[tokio::test(start_paused = true)]
    async fn ttft_and_latency_follow_the_clock() {
        let mut c = Collector::new(info(Pricing::Free));
        tokio::time::advance(Duration::from_millis(30)).await;
        push(&mut c, &Chunk::Reasoning("hmm".into()));
        tokio::time::advance(Duration::from_millis(70)).await;
        push(&mut c, &Chunk::Text("a".into()));
        tokio::time::advance(Duration::from_millis(400)).await;
        push(&mut c, &Chunk::from(Finish::new(FinishReason::Stop)));
        let r = c.finish().unwrap();
        assert_eq!(r.usage.ttft_ms, Some(100.0));
        assert_eq!(r.usage.latency_ms, 500.0);
    }

    #[test]
    fn json_has_the_documented_field_names() {
        let mut c = Collector::new(info(Pricing::Free));
        push(
            &mut c,
            &Chunk::from(Finish::new(FinishReason::Stop).with_tokens(Some(1), Some(0))),
        );
        let v = serde_json::to_value(c.finish().unwrap()).unwrap();
        for key in ["text", "provider", "model", "finish_reason", "usage"] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
        for key in [
            "tokens_in",
            "tokens_out",
            "latency_ms",
            "usd_micros",
            "ttft_ms",
        ] {
            assert!(v["usage"].get(key).is_some(), "usage.{key} missing in {v}");
        }
        assert!(v["usage"]["ttft_ms"].is_null());
        assert_eq!(v["usage"]["cost_basis"], "free");
        assert!(v.get("reasoning").is_none());
    }
}

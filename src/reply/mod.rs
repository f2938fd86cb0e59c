//! What a reply is, and how a stream becomes one: [`Collector`] folds a stream of
//! chunks into a [`ChatReply`] (`chat_reply.rs`) with its [`Usage`]; a reply cut short
//! is a [`PartialReply`]; the rate limits a response reported are a [`RateLimit`].

mod chat_reply;

use tokio::time::Instant;

use crate::chunk::{Chunk, Finish, FinishReason, ThinkingBlock, ToolCall};
use crate::error::{Error, ErrorKind, Result};
use crate::stream::{ChatStream, StreamInfo};
use crate::usage::token_counts;

pub use crate::partial::PartialReply;
pub use crate::rate_limit::{Quota, RateLimit};
pub use crate::usage::Usage;
pub use chat_reply::ChatReply;

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
/// use theory_llm::{Chunk, LlmStreamProvider, MockProvider};
/// use theory_llm::reply::Collector;
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
    /// Bytes kept so far (text, reasoning, refusal, tool calls, thinking blocks), for
    /// the cap.
    held: usize,
    /// Tool call arguments counted as they streamed, and as complete calls: the cap
    /// counts the larger, since a call's arguments may come in deltas, whole, or both.
    streamed_arguments: usize,
    kept_arguments: usize,
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

/// The length of `value` as JSON text, without writing it anywhere.
fn json_len(value: &serde_json::Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The bytes a thinking block keeps.
fn block_len(block: &ThinkingBlock) -> usize {
    match block {
        ThinkingBlock::Thinking {
            thinking,
            signature,
        } => thinking.len().saturating_add(signature.len()),
        ThinkingBlock::RedactedThinking { data } => data.len(),
        ThinkingBlock::ThoughtSignature {
            signature,
            tool_call_id,
            thought,
        } => [signature.len(), opt_len(tool_call_id), opt_len(thought)]
            .into_iter()
            .fold(0, usize::saturating_add),
    }
}

fn opt_len(text: &Option<String>) -> usize {
    text.as_deref().map_or(0, str::len)
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

    /// A collector for a stream described by `info`, timing from `started` (not public:
    /// it would expose tokio's `Instant`).
    pub(crate) fn with_start(info: StreamInfo, started: Instant) -> Collector {
        Collector {
            info,
            started,
            text: String::new(),
            reasoning: String::new(),
            refusal: String::new(),
            tool_calls: Vec::new(),
            held: 0,
            streamed_arguments: 0,
            kept_arguments: 0,
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
            // Counted as they stream (a call too large fails before it completes) and
            // again when complete, without counting the same bytes twice.
            Chunk::ToolCallDelta(delta) => {
                let streamed = self
                    .streamed_arguments
                    .saturating_add(delta.arguments.len());
                self.take_arguments(streamed, self.kept_arguments)?;
            }
            Chunk::ToolCall(call) => {
                self.take(call.id.len().saturating_add(call.name.len()))?;
                let kept = self
                    .kept_arguments
                    .saturating_add(json_len(&call.arguments));
                self.take_arguments(self.streamed_arguments, kept)?;
                self.tool_calls.push((**call).clone());
            }
            Chunk::Finish(finish) => {
                if self.finished.is_none() {
                    self.take(finish.reasoning_blocks.iter().map(block_len).sum())?;
                    self.finished = Some(((**finish).clone(), Instant::now()));
                }
            }
            Chunk::ToolCallStart(_) => {}
        }
        Ok(())
    }

    /// Counts tool call arguments toward the cap: the larger of what streamed and what
    /// was kept.
    fn take_arguments(&mut self, streamed: usize, kept: usize) -> Result<()> {
        let before = self.streamed_arguments.max(self.kept_arguments);
        self.take(streamed.max(kept).saturating_sub(before))?;
        self.streamed_arguments = streamed;
        self.kept_arguments = kept;
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
        let (usd_micros, cost_basis) = (pricing.cost(&counts), pricing);
        Usage {
            tokens_in: counts.input,
            tokens_out: counts.output,
            cached_tokens_in: finish.and_then(|f| f.cached_tokens_in),
            cache_write_tokens_in: finish.and_then(|f| f.cache_write_tokens_in),
            reasoning_tokens_out: finish.and_then(|f| f.reasoning_tokens_out),
            latency_ms: ms(at),
            usd_micros,
            ttft_ms: self.first_text.map(ms),
            waited_ms: finish
                .and_then(|f| f.waited)
                .map_or(0.0, |d| d.as_micros() as f64 / 1000.0),
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
        assert!(
            matches!(r.usage.cost_basis, Pricing::Metered(_)),
            "{:?}",
            r.usage.cost_basis
        );
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
        assert_eq!(r.usage.cost_basis, Pricing::Unknown);
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

    /// Issue 24: a tool call that came whole (no deltas: Ollama, a whole reply) and the
    /// thinking blocks of a finish were kept without counting toward the cap.
    #[test]
    fn whole_tool_calls_and_thinking_blocks_count_toward_the_cap() {
        let call =
            |args: &str| Chunk::from(ToolCall::new("id", "f", serde_json::json!({ "a": args })));
        let mut c = Collector::new(info(Pricing::Free).with_max_reply_bytes(100));
        assert!(c.push(&call(&"x".repeat(40))).is_ok());
        let err = c.push(&call(&"x".repeat(40))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        // Arguments that streamed as deltas and then came whole count once.
        let mut c = Collector::new(info(Pricing::Free).with_max_reply_bytes(100));
        let args = format!("{{\"a\":\"{}\"}}", "x".repeat(40));
        c.push(&Chunk::tool_call_delta(0, args.clone())).unwrap();
        c.push(&call(&"x".repeat(40))).unwrap();
        assert!(c.held < 60, "{}", c.held);
        let mut finish = Finish::new(FinishReason::Stop);
        finish.reasoning_blocks = vec![ThinkingBlock::RedactedThinking {
            data: "r".repeat(200),
        }];
        let mut c = Collector::new(info(Pricing::Free).with_max_reply_bytes(100));
        assert!(c.push(&Chunk::from(finish)).is_err());
    }
}

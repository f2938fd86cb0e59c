//! [`ChatStream`], the owned stream every provider returns, and its adapters.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, RawWakerVTable};
use std::time::Duration;

use futures::Stream;
use tokio::time::{Instant, Sleep};

use crate::chunk::Chunk;
use crate::collect::{ChatReply, Collector};
use crate::error::{Error, ErrorKind, Result};
use crate::pricing::Pricing;
use crate::request::{ChatRequest, Timeouts};

/// What a stream is: which provider and model it comes from and how it is priced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StreamInfo {
    /// The provider's name (`"openai"`, `"ollama"`, `"mock"`, or a custom name).
    pub provider: String,
    /// The model that was requested (after applying the provider's default).
    pub model: String,
    /// How the model is priced.
    pub pricing: Pricing,
    /// An estimate of the prompt's tokens, used only when the provider reports no count.
    pub prompt_tokens_estimate: u64,
    /// The largest reply a [`Collector`] takes, in bytes of text and reasoning.
    pub max_reply_bytes: usize,
}

impl StreamInfo {
    /// Info for `model` on `provider`, priced [`Pricing::Unknown`] until said otherwise.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> StreamInfo {
        StreamInfo {
            provider: provider.into(),
            model: model.into(),
            pricing: Pricing::Unknown,
            prompt_tokens_estimate: 0,
            max_reply_bytes: crate::http::DEFAULT_MAX_REPLY_BYTES,
        }
    }

    /// Sets the pricing.
    #[must_use]
    pub fn with_pricing(mut self, pricing: Pricing) -> StreamInfo {
        self.pricing = pricing;
        self
    }

    /// Info for `request` on `provider`: the request's model, else `default_model`; the
    /// prompt's token estimate (system prompt and messages, [`estimate_tokens`]'s rule);
    /// the request's reply cap, else the default (64 MiB); priced [`Pricing::Unknown`]
    /// until said otherwise.
    pub fn for_request(
        provider: impl Into<String>,
        request: &ChatRequest,
        default_model: &str,
    ) -> StreamInfo {
        let model = request.model.as_deref().unwrap_or(default_model);
        let chars: usize = request
            .full_conversation()
            .map(|(_, text)| text.chars().count())
            .sum();
        let mut info = StreamInfo::new(provider, model)
            .with_prompt_tokens_estimate((chars as u64).div_ceil(4));
        if let Some(limit) = request.max_reply_bytes {
            info.max_reply_bytes = limit;
        }
        info
    }

    /// Sets the largest reply a [`Collector`] takes.
    #[must_use]
    pub fn with_max_reply_bytes(mut self, limit: usize) -> StreamInfo {
        self.max_reply_bytes = limit;
        self
    }

    /// Sets the prompt token estimate (see [`estimate_tokens`]).
    #[must_use]
    pub fn with_prompt_tokens_estimate(mut self, tokens: u64) -> StreamInfo {
        self.prompt_tokens_estimate = tokens;
        self
    }
}

/// A rough token count for text whose real count is not reported: one token per
/// four characters, rounded up (the usual rule of thumb for English and code).
///
/// ```
/// assert_eq!(theory_llm::estimate_tokens(""), 0);
/// assert_eq!(theory_llm::estimate_tokens("Hello"), 2);
/// ```
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

type BoxChunkStream = Pin<Box<dyn Stream<Item = Result<Chunk>> + Send + 'static>>;

/// The reply of a provider, as a stream of [`Chunk`]s in the order they were produced.
///
/// It is owned (`Send + 'static`), lazy (no request is made until it is first polled)
/// and cancellable: dropping it at any point drops the HTTP response and closes the
/// connection. A `ChatStream` yields text and reasoning chunks, then one
/// [`Chunk::Finish`]; or it ends with one `Err` item. Nothing is yielded after either,
/// and a provider stream that ends without a finish yields a `protocol` error rather
/// than looking like a complete reply.
///
/// ```
/// use futures::StreamExt;
/// use theory_llm::{Chunk, LlmStreamProvider, MockProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let llm = MockProvider::new();
/// let mut stream = llm.stream_chat("Hello".into());
/// while let Some(chunk) = stream.next().await {
///     match chunk? {
///         Chunk::Text(text) => print!("{text}"),
///         Chunk::Finish(finish) => println!("\n[{}]", finish.reason),
///         _ => {}
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "a ChatStream does nothing until it is polled"]
pub struct ChatStream {
    inner: BoxChunkStream,
    info: StreamInfo,
    started: Instant,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// A finish or an error was yielded; the stream is over.
    Done,
}

impl ChatStream {
    /// Wraps a provider's stream of chunks. The clock for latency and time to first
    /// token starts now.
    pub fn new<S>(info: StreamInfo, stream: S) -> ChatStream
    where
        S: Stream<Item = Result<Chunk>> + Send + 'static,
    {
        ChatStream {
            inner: Box::pin(stream),
            info,
            started: Instant::now(),
            state: State::Open,
        }
    }

    /// A stream that yields `error` and ends (for requests rejected before any I/O).
    pub fn from_error(info: StreamInfo, error: Error) -> ChatStream {
        ChatStream::new(info, futures::stream::once(async move { Err(error) }))
    }

    /// Which provider and model this stream comes from, and how it is priced.
    pub fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// When the call that made this stream happened.
    pub fn started_at(&self) -> Instant {
        self.started
    }

    /// Applies time limits: the first chunk must come within `first_chunk` of the first
    /// poll, the stream may not wait more than `idle` for any next chunk (counted from
    /// when it was polled for that chunk with none at hand, so time the app spends
    /// between polls is not the server's), and the whole stream must end within
    /// `deadline` of the call. A limit that fires ends the stream with an error of kind
    /// [`ErrorKind::Timeout`] naming the phase and the limit.
    ///
    /// Keep-alives never reach this layer (framing drops them), so a server that sends
    /// only keep-alives is idle. A limit of more than 100 years counts as 100 years.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> ChatStream {
        if timeouts == Timeouts::default() {
            return self;
        }
        let timeouts = timeouts.clamped();
        let provider = self.info.provider.clone();
        let deadline = timeouts.deadline.map(|d| self.started + d);
        let inner = std::mem::replace(&mut self.inner, Box::pin(futures::stream::empty()));
        self.inner = Box::pin(Timed {
            inner,
            provider,
            timeouts,
            deadline,
            seen_first: false,
            waiting_since: None,
            yielded: false,
            registered: None,
            phase_timer: None,
            deadline_timer: None,
        });
        self
    }

    /// A view that yields only the reply text, for live display. Reasoning is skipped;
    /// the finish ends the stream; errors are passed through.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use theory_llm::{LlmStreamProvider, MockProvider};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> theory_llm::Result<()> {
    /// let llm = MockProvider::builder().reply("one two three").build();
    /// let pieces: Vec<String> = llm.stream_chat("hi".into()).text().try_collect().await?;
    /// assert_eq!(pieces.concat(), "one two three");
    /// # Ok(())
    /// # }
    /// ```
    pub fn text(self) -> TextStream {
        TextStream { inner: self }
    }

    /// Drives the stream to its end and folds it into a [`ChatReply`]
    /// (what [`LlmStreamProvider::chat`](crate::LlmStreamProvider::chat) does).
    pub async fn reply(mut self) -> Result<ChatReply> {
        let mut collector = Collector::for_stream(&self);
        while let Some(item) = futures::StreamExt::next(&mut self).await {
            collector.push(&item?)?;
        }
        collector.finish()
    }
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream")
            .field("info", &self.info)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Stream for ChatStream {
    type Item = Result<Chunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.state == State::Done {
            return Poll::Ready(None);
        }
        let item = ready!(self.inner.as_mut().poll_next(cx));
        match &item {
            Some(Ok(Chunk::Finish(_))) | Some(Err(_)) => self.finish_inner(),
            Some(Ok(_)) => {}
            None => {
                self.finish_inner();
                let msg = format!(
                    "the {} stream ended without a finish: the reply may be truncated. This is a bug in the provider; retry the request",
                    self.info.provider
                );
                return Poll::Ready(Some(Err(Error::new(ErrorKind::Protocol, msg))));
            }
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.state {
            State::Done => (0, Some(0)),
            State::Open => (0, None),
        }
    }
}

impl ChatStream {
    /// Marks the stream over and drops the provider's stream, which releases its connection now.
    fn finish_inner(&mut self) {
        self.state = State::Done;
        self.inner = Box::pin(futures::stream::empty());
    }
}

/// The text-only view of a [`ChatStream`]; see [`ChatStream::text`].
#[must_use = "a TextStream does nothing until it is polled"]
#[derive(Debug)]
pub struct TextStream {
    inner: ChatStream,
}

impl Stream for TextStream {
    type Item = Result<String>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match ready!(Pin::new(&mut self.inner).poll_next(cx)) {
                Some(Ok(Chunk::Text(text))) => return Poll::Ready(Some(Ok(text))),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }
}

/// Time limits over a chunk stream. Timers are created on the first poll (so a stream
/// can be made outside a runtime) and re-armed lazily: the timer is moved forward only
/// when it fires early.
///
/// The idle limit bounds each wait: the clock is read when a wait begins (the inner
/// stream has no item at hand after yielding some), not per item. Items already at hand,
/// e.g. several events from one read, pass without a clock read (a clock read per item
/// measured 2-4% of an OpenAI stream's per-chunk cost), and the app's own time between
/// polls is not counted as the server's silence.
struct Timed {
    inner: BoxChunkStream,
    provider: String,
    timeouts: Timeouts,
    deadline: Option<Instant>,
    seen_first: bool,
    /// When the current wait for an item began (the first poll, or the first poll that
    /// found no item after some were yielded).
    waiting_since: Option<Instant>,
    /// Items were yielded since `waiting_since`.
    yielded: bool,
    /// The waker both timers were last polled with (its data and vtable addresses, which
    /// is what `Waker::will_wake` compares). While the task's waker is the same and a
    /// timer has not fired, polling it again would only re-register that waker, so it
    /// is skipped (measured: ~5% of an Ollama stream's per-chunk cost, since with one
    /// chunk per wake-up every chunk is followed by a wait).
    ///
    /// The addresses of `cx.waker()` are kept rather than a clone: a clone may carry
    /// another copy of the same vtable, so `will_wake` against it can be false forever.
    registered: Option<(usize, usize)>,
    /// First-chunk timer until the first item, then the idle timer.
    phase_timer: Option<Pin<Box<Sleep>>>,
    deadline_timer: Option<Pin<Box<Sleep>>>,
}

impl Timed {
    fn phase_limit(&self) -> Option<Duration> {
        if self.seen_first {
            self.timeouts.idle
        } else {
            self.timeouts.first_chunk
        }
    }

    fn timeout_error(&self, phase: &str, limit: Duration, advice: &str) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{} timed out: {phase} (limit {}). {advice}",
                self.provider,
                fmt_duration(limit)
            ),
        )
    }
}

/// `1.5 s`, `120 s`, `250 ms`; `over 100 years` for what no one will wait for.
pub(crate) fn fmt_duration(d: Duration) -> String {
    if d >= crate::http::UNREASONABLE_WAIT {
        "over 100 years".to_owned()
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

impl Stream for Timed {
    type Item = Result<Chunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.waiting_since.is_none() {
            // The first poll: arm the first-chunk and deadline timers.
            let now = Instant::now();
            this.waiting_since = Some(now);
            if let Some(limit) = this.phase_limit() {
                this.phase_timer = Some(Box::pin(tokio::time::sleep_until(now + limit)));
            }
            if let Some(deadline) = this.deadline {
                this.deadline_timer = Some(Box::pin(tokio::time::sleep_until(deadline)));
            }
        }

        if let Poll::Ready(item) = this.inner.as_mut().poll_next(cx) {
            if item.is_some() {
                this.yielded = true;
                if !this.seen_first {
                    this.seen_first = true;
                    // The first-chunk limit is met; the idle timer is armed at the
                    // first wait.
                    this.phase_timer = None;
                }
            }
            return Poll::Ready(item);
        }

        if this.yielded {
            // A new wait begins now.
            this.yielded = false;
            let now = Instant::now();
            this.waiting_since = Some(now);
            if this.phase_timer.is_none() {
                if let Some(limit) = this.phase_limit() {
                    this.phase_timer = Some(Box::pin(tokio::time::sleep_until(now + limit)));
                    this.registered = None;
                }
            }
        }

        // A timer must be polled when it may have fired, or to register a new waker.
        let waker = cx.waker();
        let id = (
            waker.data() as usize,
            waker.vtable() as *const RawWakerVTable as usize,
        );
        let registered = this.registered == Some(id);
        this.registered = Some(id);
        let due = |timer: &Pin<Box<Sleep>>| !registered || timer.is_elapsed();

        if let Some(timer) = this.deadline_timer.as_mut().filter(|t| due(t)) {
            if timer.as_mut().poll(cx).is_ready() {
                let limit = this.timeouts.deadline.unwrap_or_default();
                let err = this.timeout_error(
                    "the reply did not finish within the total deadline",
                    limit,
                    "Raise the deadline, or ask for a shorter reply (max_tokens).",
                );
                return Poll::Ready(Some(Err(err)));
            }
        }

        let limit = this.phase_limit();
        let timer = this.phase_timer.as_mut().filter(|t| due(t));
        if let (Some(timer), Some(limit)) = (timer, limit) {
            if timer.as_mut().poll(cx).is_ready() {
                let due = this.waiting_since.map_or_else(Instant::now, |t| t + limit);
                if due > Instant::now() {
                    // The wait began after the timer was armed: move it forward.
                    timer.as_mut().reset(due);
                    if timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                let err = if this.seen_first {
                    this.timeout_error(
                        "no new content arrived within the idle limit",
                        limit,
                        "The server stalled mid-reply; retry, or raise the idle timeout.",
                    )
                } else {
                    this.timeout_error(
                        "no content arrived within the first-chunk limit",
                        limit,
                        "The server may be busy or still loading the model; retry, or raise the first-chunk timeout.",
                    )
                };
                return Poll::Ready(Some(Err(err)));
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{Finish, FinishReason};
    use futures::StreamExt;

    fn info() -> StreamInfo {
        StreamInfo::new("test", "m")
    }

    #[tokio::test]
    async fn a_stream_without_finish_is_a_protocol_error() {
        let inner = futures::stream::iter(vec![Ok(Chunk::Text("a".into()))]);
        let items: Vec<_> = ChatStream::new(info(), inner).collect().await;
        assert_eq!(items.len(), 2);
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.to_string().contains("truncated"));
    }

    #[tokio::test]
    async fn nothing_is_yielded_after_finish_or_error() {
        let inner = futures::stream::iter(vec![
            Ok(Chunk::from(Finish::new(FinishReason::Stop))),
            Ok(Chunk::Text("late".into())),
        ]);
        assert_eq!(
            ChatStream::new(info(), inner)
                .collect::<Vec<_>>()
                .await
                .len(),
            1
        );
        let inner = futures::stream::iter(vec![
            Err(Error::new(ErrorKind::Server, "x")),
            Ok(Chunk::Text("late".into())),
        ]);
        assert_eq!(
            ChatStream::new(info(), inner)
                .collect::<Vec<_>>()
                .await
                .len(),
            1
        );
    }

    #[test]
    fn durations_print_readably() {
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(fmt_duration(Duration::from_secs(120)), "120 s");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5 s");
    }

    fn pending_after(chunks: Vec<Chunk>) -> impl Stream<Item = Result<Chunk>> + Send {
        futures::stream::iter(chunks.into_iter().map(Ok)).chain(futures::stream::pending())
    }

    #[tokio::test(start_paused = true)]
    async fn first_chunk_timeout_names_the_phase() {
        let t = Timeouts::default().first_chunk(Duration::from_secs(3));
        let mut s = ChatStream::new(info(), pending_after(vec![])).with_timeouts(t);
        let start = Instant::now();
        let err = s.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.to_string().contains("first-chunk"), "{err}");
        assert!(err.to_string().contains("3 s"), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert!(s.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn idle_timeout_counts_from_the_last_chunk() {
        let t = Timeouts::default()
            .first_chunk(Duration::from_secs(100))
            .idle(Duration::from_secs(2));
        let inner = futures::stream::unfold(0u32, |n| async move {
            if n < 3 {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                Some((Ok(Chunk::Text(format!("{n}"))), n + 1))
            } else {
                futures::future::pending().await
            }
        });
        let mut s = ChatStream::new(info(), inner).with_timeouts(t);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(s.next().await.unwrap().is_ok());
        }
        let err = s.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("idle"), "{err}");
        // 3 chunks 1.5 s apart never trip a 2 s idle limit; the silence after them does.
        assert_eq!(start.elapsed(), Duration::from_millis(4500 + 2000));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_counts_from_the_wait_not_from_the_apps_work() {
        // The app takes 5 s over a chunk; the 2 s idle limit then still gives the
        // server 2 s from when the app asks for the next one. (Pins the behaviour that
        // lets the adapter read the clock once per wait instead of once per chunk.)
        let t = Timeouts::default().idle(Duration::from_secs(2));
        let inner = pending_after(vec![Chunk::Text("a".into()), Chunk::Text("b".into())]);
        let mut s = ChatStream::new(info(), inner).with_timeouts(t);
        let start = Instant::now();
        assert!(s.next().await.unwrap().is_ok());
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(s.next().await.unwrap().is_ok());
        let err = s.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("idle"), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_chunk_limit_gives_way_to_the_idle_limit() {
        let t = Timeouts::default()
            .first_chunk(Duration::from_secs(10))
            .idle(Duration::from_secs(1));
        let inner = futures::stream::unfold(0u32, |n| async move {
            match n {
                0 => {
                    tokio::time::sleep(Duration::from_secs(8)).await;
                    Some((Ok(Chunk::Text("late first".into())), 1))
                }
                _ => futures::future::pending().await,
            }
        });
        let mut s = ChatStream::new(info(), inner).with_timeouts(t);
        let start = Instant::now();
        assert!(s.next().await.unwrap().is_ok());
        let err = s.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("idle"), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(9));

        // Without an idle limit, nothing fires after the first chunk.
        let t = Timeouts::default().first_chunk(Duration::from_secs(1));
        let inner = pending_after(vec![Chunk::Text("a".into())]);
        let mut s = ChatStream::new(info(), inner).with_timeouts(t);
        assert!(s.next().await.unwrap().is_ok());
        let waited = tokio::time::timeout(Duration::from_secs(30), s.next()).await;
        assert!(waited.is_err(), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_timer_wakes_the_task_that_polled_last() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        use std::task::Wake;

        #[derive(Default)]
        struct Flag(AtomicBool);
        impl Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        // The timers are not re-polled while the waker stays the same; a new waker
        // must still be registered.
        let t = Timeouts::default()
            .first_chunk(Duration::from_secs(1))
            .deadline(Duration::from_secs(1));
        let mut s = ChatStream::new(info(), pending_after(vec![])).with_timeouts(t);
        let (a, b) = (Arc::new(Flag::default()), Arc::new(Flag::default()));
        for flag in [&a, &a, &b] {
            let waker = std::task::Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(Pin::new(&mut s).poll_next(&mut cx).is_pending());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(b.0.load(Ordering::SeqCst), "the last waker was not woken");
        let waker = std::task::Waker::from(b.clone());
        let mut cx = Context::from_waker(&waker);
        match Pin::new(&mut s).poll_next(&mut cx) {
            Poll::Ready(Some(Err(e))) => assert_eq!(e.kind(), ErrorKind::Timeout),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_counts_from_the_call() {
        let t = Timeouts::default().deadline(Duration::from_secs(5));
        let inner = futures::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(1100)).await;
            Some((Ok(Chunk::Text("x".into())), ()))
        });
        let s = ChatStream::new(info(), inner).with_timeouts(t);
        let start = Instant::now();
        let items: Vec<_> = s.collect().await;
        let err = items.last().unwrap().as_ref().unwrap_err();
        assert!(err.to_string().contains("deadline"), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert_eq!(items.len(), 5);
    }

    #[test]
    fn a_stream_can_be_made_outside_a_runtime() {
        let t = Timeouts::default().idle(Duration::from_secs(1));
        let s = ChatStream::new(info(), pending_after(vec![])).with_timeouts(t);
        drop(s);
    }
}

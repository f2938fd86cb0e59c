//! [`ChatStream`], the owned stream every provider returns, the [`Chunk`]s it yields,
//! and its adapters, one per file: [`TextStream`] (`text.rs`), the time limits
//! (`timed.rs`). What a stream is, [`kit::StreamInfo`](crate::kit::StreamInfo), is in
//! `info.rs`.

pub(crate) mod info;
#[cfg(test)]
mod tests;
mod text;
mod timed;
#[cfg(feature = "tracing")]
mod trace;

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::Stream;
use tokio::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::request::Timeouts;

pub use crate::chunk::{
    Chunk, Finish, FinishReason, ServerTimings, Text, ThinkingBlock, ToolCall, ToolCallDelta,
    ToolCallStart,
};
pub(crate) use info::StreamInfo;
pub use text::TextStream;
use timed::Timed;

type BoxChunkStream = Pin<Box<dyn Stream<Item = Result<Chunk>> + Send + 'static>>;

/// The reply of a provider, as a stream of [`Chunk`]s in the order they were produced.
///
/// It is owned (`Send + 'static`), lazy (no request is made until it is first polled)
/// and cancellable: dropping it at any point drops the HTTP response and closes the
/// connection. A `ChatStream` yields text and reasoning chunks, then one
/// [`Chunk::Finish`]; or it ends with one `Err` item. Nothing is yielded after either,
/// and a provider stream that ends without a finish yields a `protocol` error rather
/// than looking like a complete reply. A reply with tool calls finishes with
/// [`FinishReason::ToolCalls`], whatever the server said.
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
    /// A complete tool call has been yielded.
    tool_calls: bool,
    /// The call's span (feature `tracing`).
    #[cfg(feature = "tracing")]
    trace: trace::CallSpan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// A finish or an error was yielded; the stream is over.
    Done,
}

impl ChatStream {
    /// Wraps a provider's stream of chunks, under the time limits of `info`
    /// ([`StreamInfo::timeouts`](crate::kit::StreamInfo::timeouts)). The clock for
    /// latency and time to first token starts now.
    ///
    /// The first-chunk limit (from the first poll) and the deadline (from now) fire on
    /// time. The idle limit, counted from when the stream is polled for a next chunk
    /// with none at hand (time the app spends between polls is not the server's), is
    /// checked without reading the clock per chunk, so it fires between `idle` and
    /// `idle` plus a sixteenth after the last chunk (never early). A limit that fires
    /// ends the stream with an error of kind
    /// [`ErrorKind::Timeout`] naming the phase and the limit.
    /// Keep-alives never reach this layer (framing drops them), so a server that sends
    /// only keep-alives is idle. A limit of more than 100 years counts as 100 years.
    pub fn new<S>(info: StreamInfo, stream: S) -> ChatStream
    where
        S: Stream<Item = Result<Chunk>> + Send + 'static,
    {
        let started = Instant::now();
        // The time limits wrap the provider's stream before it is boxed: one dynamic
        // call per item fewer than wrapping the box.
        let inner: BoxChunkStream = if info.timeouts == Timeouts::default() {
            Box::pin(stream)
        } else {
            let timeouts = info.timeouts.clamped();
            let deadline = timeouts.deadline.map(|d| started + d);
            let provider = info.provider.clone();
            Box::pin(Timed::new(stream, provider, timeouts, deadline))
        };
        ChatStream {
            inner,
            #[cfg(feature = "tracing")]
            trace: trace::CallSpan::new(&info, started),
            info,
            started,
            state: State::Open,
            tool_calls: false,
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
    pub(crate) fn started_at(&self) -> Instant {
        self.started
    }

    /// A view that yields only the reply text, for live display, each piece a
    /// [`Text`]. Reasoning is skipped; the finish ends the stream; errors are passed
    /// through.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use theory_llm::stream::Text;
    /// use theory_llm::{LlmStreamProvider, MockProvider};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> theory_llm::Result<()> {
    /// let llm = MockProvider::builder().reply("one two three").build();
    /// let pieces: Vec<Text> = llm.stream_chat("hi".into()).text().try_collect().await?;
    /// assert_eq!(pieces.concat(), "one two three");
    /// // Or joined as they come:
    /// let reply: String = llm.stream_chat("hi".into()).text().try_collect().await?;
    /// assert_eq!(reply, "one two three");
    /// # Ok(())
    /// # }
    /// ```
    pub fn text(self) -> TextStream {
        TextStream { inner: self }
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
        let this = &mut *self;
        let item = {
            // Inside the call's span, so that retries and the HTTP client's spans nest
            // under it.
            #[cfg(feature = "tracing")]
            let _entered = this.trace.span.enter();
            ready!(this.inner.as_mut().poll_next(cx))
        };
        let item = this.check(item);
        #[cfg(feature = "tracing")]
        if let Some(item) = &item {
            this.trace.item(item, &this.info);
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
    /// Applies the stream's rules to an item of the provider's stream: a reply with tool
    /// calls finishes for tool calls; after a finish or an error the stream is over; a
    /// provider stream that ends without a finish is a `protocol` error (in place of the
    /// end).
    fn check(&mut self, mut item: Option<Result<Chunk>>) -> Option<Result<Chunk>> {
        match &mut item {
            Some(Ok(Chunk::Finish(finish))) => {
                // A reply with tool calls ends for tool calls, whatever the server said
                // (unless it was cut short, refused or filtered).
                if self.tool_calls
                    && matches!(finish.reason, FinishReason::Stop | FinishReason::Other(_))
                {
                    finish.reason = FinishReason::ToolCalls;
                }
                self.finish_inner();
            }
            Some(Ok(Chunk::ToolCall(_))) => self.tool_calls = true,
            Some(Err(_)) => self.finish_inner(),
            Some(Ok(_)) => {}
            None => {
                self.finish_inner();
                let msg = format!(
                    "the {} stream ended without a finish: the reply may be truncated. This is a bug in the provider; retry the request",
                    self.info.provider
                );
                return Some(Err(Error::new(ErrorKind::Protocol, msg)));
            }
        }
        item
    }

    /// Marks the stream over and drops the provider's stream, which releases its connection now.
    fn finish_inner(&mut self) {
        self.state = State::Done;
        self.inner = Box::pin(futures::stream::empty());
    }
}

//! [`RecordingProvider`]: any provider, each exchange written to a recording as it ends.

use std::fmt;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::Stream;
use tokio::time::Instant;

use crate::chunk::Chunk;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::LlmStreamProvider;
use crate::request::{ChatRequest, Timeouts};
use crate::stream::{ChatStream, StreamInfo};

use super::lines::{pricing_json, request_json, Line, VERSION};

/// Where recordings go, shared by the provider's streams; the first write error is kept.
struct Sink {
    out: Box<dyn Write + Send>,
    error: Option<String>,
}

/// Wraps a provider and writes each exchange — the request, every chunk with its time
/// offset, the finish with its usage, or the error — to a recording in the line format
/// of [`record`](crate::record), for [`ReplayProvider`](crate::record::ReplayProvider)
/// to serve later. An exchange is written whole when its stream ends (or is dropped:
/// then it ends with a `cancelled` error), so concurrent streams never interleave.
///
/// A failure to write never fails the reply; [`write_error`](Self::write_error) says if
/// one happened. Nor does an exchange too large to keep: its lines take memory until it
/// ends, so an exchange whose lines pass 4 times the reply's
/// cap (`max_reply_bytes`, 64 MiB by default: 256 MiB of lines) is left out of the
/// recording, and `write_error` says so.
///
/// ```
/// use theory_llm::record::RecordingProvider;
/// use theory_llm::{LlmStreamProvider, MockProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let llm = RecordingProvider::to_memory(MockProvider::new());
/// llm.chat("Hello".into()).await?;
/// let recording = llm.take_recording().unwrap();
/// assert!(recording.starts_with(r#"{"type":"exchange""#));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RecordingProvider {
    inner: Arc<dyn LlmStreamProvider>,
    sink: Arc<Mutex<Sink>>,
    /// The in-memory recording, when recording to memory.
    memory: Option<Arc<Mutex<Vec<u8>>>>,
}

impl fmt::Debug for RecordingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingProvider")
            .field("inner", &self.inner.name())
            .finish_non_exhaustive()
    }
}

/// A `Write` into shared memory.
struct Memory(Arc<Mutex<Vec<u8>>>);

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut memory = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        memory.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl RecordingProvider {
    /// Records the exchanges of `inner` to `out` (a file, say).
    pub fn new(
        inner: impl LlmStreamProvider + 'static,
        out: impl Write + Send + 'static,
    ) -> RecordingProvider {
        RecordingProvider::shared(Arc::new(inner), out)
    }

    /// [`new`](Self::new) for a provider already shared (a boxed one from the registry).
    pub fn shared(
        inner: Arc<dyn LlmStreamProvider>,
        out: impl Write + Send + 'static,
    ) -> RecordingProvider {
        RecordingProvider {
            inner,
            sink: Arc::new(Mutex::new(Sink {
                out: Box::new(out),
                error: None,
            })),
            memory: None,
        }
    }

    /// Records to memory; read it with [`take_recording`](Self::take_recording).
    pub fn to_memory(inner: impl LlmStreamProvider + 'static) -> RecordingProvider {
        let memory = Arc::new(Mutex::new(Vec::new()));
        RecordingProvider {
            inner: Arc::new(inner),
            sink: Arc::new(Mutex::new(Sink {
                out: Box::new(Memory(memory.clone())),
                error: None,
            })),
            memory: Some(memory),
        }
    }

    /// The recording so far, for a recorder made with [`to_memory`](Self::to_memory)
    /// (emptied); `None` for one that writes elsewhere.
    pub fn take_recording(&self) -> Option<String> {
        let memory = self.memory.as_ref()?;
        let mut bytes = memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(String::from_utf8_lossy(&std::mem::take(&mut *bytes)).into_owned())
    }

    /// The first error writing the recording, if one happened.
    pub fn write_error(&self) -> Option<String> {
        self.sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .error
            .clone()
    }
}

impl LlmStreamProvider for RecordingProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn default_model(&self) -> &str {
        self.inner.default_model()
    }

    fn stream_info(&self, request: &ChatRequest) -> StreamInfo {
        self.inner.stream_info(request)
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let stream = self.inner.stream_chat(request.clone());
        let info = stream.info().clone();
        // The inner stream applies the time limits; applying them again here would only
        // race it.
        let outer_info = info.clone().with_timeouts(Timeouts::default());
        let head = Line::Exchange {
            version: VERSION,
            provider: info.provider().to_owned(),
            model: info.model().to_owned(),
            request: request_json(&request, info.model()),
            pricing: pricing_json(info.pricing()),
        };
        let mut text = head.to_json();
        text.push('\n');
        let recording = Recording {
            stream,
            started: Instant::now(),
            text: Some(text),
            max_bytes: info
                .max_reply_bytes()
                .saturating_mul(RECORDED_PER_REPLY_BYTE),
            reply_bytes: 0,
            sink: self.sink.clone(),
            written: false,
        };
        ChatStream::new(outer_info, recording)
    }
}

/// How many bytes of recorded lines an exchange may take per byte of its reply cap:
/// each line adds its JSON around the chunk's own bytes.
const RECORDED_PER_REPLY_BYTE: usize = 4;

/// One exchange being recorded.
struct Recording {
    stream: ChatStream,
    started: Instant,
    /// The exchange's lines so far, as written; `None` once they passed `max_bytes`.
    text: Option<String>,
    /// The most bytes of lines the exchange may take, after its first line.
    max_bytes: usize,
    /// Bytes of lines after the first.
    reply_bytes: usize,
    sink: Arc<Mutex<Sink>>,
    written: bool,
}

impl Recording {
    fn t_ms(&self) -> f64 {
        self.started.elapsed().as_micros() as f64 / 1000.0
    }

    /// Adds a line, unless the exchange has grown past its bound (then it is dropped).
    fn push(&mut self, line: &Line) {
        let Some(text) = &mut self.text else {
            return;
        };
        let json = line.to_json();
        self.reply_bytes = self.reply_bytes.saturating_add(json.len() + 1);
        if self.reply_bytes > self.max_bytes {
            self.text = None;
            return;
        }
        text.push_str(&json);
        text.push('\n');
    }

    /// Writes the exchange, once.
    fn write(&mut self) {
        if std::mem::replace(&mut self.written, true) {
            return;
        }
        let mut sink = self
            .sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(text) = self.text.take() else {
            if sink.error.is_none() {
                let limit = self.max_bytes / RECORDED_PER_REPLY_BYTE;
                sink.error = Some(format!(
                    "an exchange with {} was not recorded: its lines passed {RECORDED_PER_REPLY_BYTE} times its reply cap of {limit} bytes (max_reply_bytes)",
                    self.stream.info().provider()
                ));
            }
            return;
        };
        let written = sink
            .out
            .write_all(text.as_bytes())
            .and_then(|()| sink.out.flush());
        if let (Err(e), None) = (written, &sink.error) {
            sink.error = Some(e.to_string());
        }
    }
}

impl Stream for Recording {
    type Item = Result<Chunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = futures::ready!(Pin::new(&mut this.stream).poll_next(cx));
        let t_ms = this.t_ms();
        match &item {
            Some(Ok(chunk)) => {
                this.push(&Line::of_chunk(chunk, t_ms));
                if matches!(chunk, Chunk::Finish(_)) {
                    this.write();
                }
            }
            Some(Err(error)) => {
                this.push(&Line::of_error(error, t_ms));
                this.write();
            }
            None => this.write(),
        }
        Poll::Ready(item)
    }
}

impl Drop for Recording {
    /// A stream dropped before its end was cancelled: recorded so.
    fn drop(&mut self) {
        if !self.written {
            let cancelled = Error::new(
                ErrorKind::Cancelled,
                "the app stopped reading before the end of the reply",
            );
            let t_ms = self.t_ms();
            self.push(&Line::of_error(&cancelled, t_ms));
            self.write();
        }
    }
}

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
use crate::stream::ChatStream;

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
/// one happened.
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
        let recording = Recording {
            stream,
            started: Instant::now(),
            lines: vec![head],
            sink: self.sink.clone(),
            written: false,
        };
        ChatStream::new(outer_info, recording)
    }
}

/// One exchange being recorded.
struct Recording {
    stream: ChatStream,
    started: Instant,
    lines: Vec<Line>,
    sink: Arc<Mutex<Sink>>,
    written: bool,
}

impl Recording {
    fn t_ms(&self) -> f64 {
        self.started.elapsed().as_micros() as f64 / 1000.0
    }

    /// Writes the exchange, once.
    fn write(&mut self) {
        if std::mem::replace(&mut self.written, true) {
            return;
        }
        let mut text = String::new();
        for line in &self.lines {
            text.push_str(&line.to_json());
            text.push('\n');
        }
        let mut sink = self
            .sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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
                this.lines.push(Line::of_chunk(chunk, t_ms));
                if matches!(chunk, Chunk::Finish(_)) {
                    this.write();
                }
            }
            Some(Err(error)) => {
                this.lines.push(Line::of_error(error, t_ms));
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
            self.lines.push(Line::of_error(&cancelled, t_ms));
            self.write();
        }
    }
}

//! [`ReplayProvider`]: recorded exchanges served again, with no network: at the recorded
//! pace or at once, matched by request or taken in order.

use std::fmt;
use std::fs::File;
use std::future::Future;
use std::io::BufReader;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use serde_json::Value;
use tokio::time::{Instant, Sleep};

use crate::chunk::Chunk;
use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::pricing::Pricing;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;
use crate::stream::{ChatStream, StreamInfo};

use super::lines::{pricing_of, request_json, Line};
use super::reading::{failure, read, Limits};

/// The limits of a recording, as [`ReplayProvider`] documents them.
const LIMITS: Limits = Limits {
    line_bytes: ReplayProvider::MAX_LINE_BYTES,
    total_bytes: ReplayProvider::MAX_RECORDING_BYTES,
    lines: ReplayProvider::MAX_LINES,
};

/// How fast a replay goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Pace {
    /// Each chunk at its recorded time offset, so that a UI sees the real rhythm.
    #[default]
    Recorded,
    /// Every chunk at once.
    Instant,
}

/// Which recording answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Matching {
    /// The recording of the same request (its model, system prompt, messages, tools,
    /// format and sampling options); several recordings of one request are served in
    /// turn.
    #[default]
    ByRequest,
    /// The recordings in order, whatever the request.
    InOrder,
}

/// One recorded exchange.
#[derive(Debug, Clone)]
struct Exchange {
    provider: String,
    model: String,
    request: Value,
    pricing: Pricing,
    /// Chunks and the end, with their time offsets in milliseconds.
    items: Vec<Line>,
}

/// Serves recorded exchanges (written by
/// [`RecordingProvider`](crate::record::RecordingProvider), or by hand in the format of
/// [`record`](crate::record)) with no network: a request with no recording is an error
/// that says so. The replies carry the recorded provider, model, text, tool calls,
/// finish reason and token counts.
///
/// In an app's own tests:
///
/// ```
/// use theory_llm::record::{Pace, ReplayProvider};
/// use theory_llm::{ChatRequest, LlmStreamProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let recording = r#"
/// {"type":"exchange","version":1,"provider":"openai","model":"gpt-4o-mini","request":{"model":"gpt-4o-mini","system":null,"messages":[{"role":"user","content":"Hi"}],"temperature":null,"max_tokens":null,"stop":[],"seed":null},"pricing":"unknown"}
/// {"type":"text","t_ms":120.0,"text":"Hello"}
/// {"type":"text","t_ms":150.5,"text":" there!"}
/// {"type":"finish","t_ms":151.0,"reason":"stop","tokens_in":8,"tokens_out":3}
/// "#;
/// let llm = ReplayProvider::from_str(recording)?.pace(Pace::Instant);
/// let reply = llm.chat(ChatRequest::new("Hi")).await?;
/// assert_eq!(reply.text, "Hello there!");
/// assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (8, 3));
/// assert!(llm.chat(ChatRequest::new("Something else")).await.is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ReplayProvider {
    exchanges: Arc<[Exchange]>,
    /// Times each exchange was served.
    served: Arc<Mutex<Vec<usize>>>,
    pace: Pace,
    matching: Matching,
}

impl fmt::Debug for ReplayProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayProvider")
            .field("exchanges", &self.exchanges.len())
            .field("pace", &self.pace)
            .field("matching", &self.matching)
            .finish()
    }
}

impl ReplayProvider {
    /// The provider's name.
    pub const NAME: &'static str = "replay";

    /// The longest line a recording may have, in bytes (64 MiB), without its line end:
    /// room for a chunk (a server's event is at most 16 MiB), a tool call's arguments
    /// and a request as sent, with a long prompt, its tools and its schema.
    pub const MAX_LINE_BYTES: usize = 64 << 20;

    /// The largest recording, in bytes (256 MiB): a replay holds it all in memory.
    pub const MAX_RECORDING_BYTES: u64 = 256 << 20;

    /// The most lines a recording may have, blank lines aside (one million: a chunk a
    /// line, thousands of long replies).
    pub const MAX_LINES: usize = 1_000_000;

    /// The exchanges of a recording.
    ///
    /// # Errors
    /// `invalid_request` naming the first line that is not of the format, or for a
    /// recording with no exchange, or past the limits
    /// ([`MAX_LINE_BYTES`](Self::MAX_LINE_BYTES),
    /// [`MAX_RECORDING_BYTES`](Self::MAX_RECORDING_BYTES),
    /// [`MAX_LINES`](Self::MAX_LINES)), as [`from_file`](Self::from_file) would refuse it.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(recording: &str) -> Result<ReplayProvider> {
        ReplayProvider::from_lines(read(recording.as_bytes(), "", LIMITS)?, "")
    }

    /// The exchanges of the recording in the file at `path`, read line by line within
    /// the same limits as [`from_str`](Self::from_str): a line longer than
    /// [`MAX_LINE_BYTES`](Self::MAX_LINE_BYTES), a file larger than
    /// [`MAX_RECORDING_BYTES`](Self::MAX_RECORDING_BYTES) or of more than
    /// [`MAX_LINES`](Self::MAX_LINES) lines is refused as soon as it is read past the
    /// limit, so that a wrong path (`/dev/zero`, a huge log) fails at once, not when
    /// memory runs out.
    ///
    /// # Errors
    /// `invalid_request` naming the file: if it cannot be read, is past the limits, or
    /// is not a recording (as [`from_str`](Self::from_str) says).
    pub fn from_file(path: impl AsRef<Path>) -> Result<ReplayProvider> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let file =
            File::open(path).map_err(|e| failure("", &format!("cannot read {source}: {e}")))?;
        ReplayProvider::from_lines(read(BufReader::new(file), &source, LIMITS)?, &source)
    }

    /// The exchanges of a recording's lines; `source` names it in errors (or is empty).
    fn from_lines(lines: Vec<Line>, source: &str) -> Result<ReplayProvider> {
        let mut exchanges: Vec<Exchange> = Vec::new();
        for line in lines {
            match line {
                Line::Exchange {
                    provider,
                    model,
                    request,
                    pricing,
                    ..
                } => exchanges.push(Exchange {
                    provider,
                    model,
                    request,
                    pricing: pricing_of(&pricing),
                    items: Vec::new(),
                }),
                item => match exchanges.last_mut() {
                    Some(exchange) => exchange.items.push(item),
                    None => {
                        return Err(failure(
                            source,
                            "the recording starts with a chunk, not an exchange line",
                        ))
                    }
                },
            }
        }
        if exchanges.is_empty() {
            return Err(failure(source, "the recording holds no exchange"));
        }
        let served = vec![0; exchanges.len()];
        Ok(ReplayProvider {
            exchanges: exchanges.into(),
            served: Arc::new(Mutex::new(served)),
            pace: Pace::default(),
            matching: Matching::default(),
        })
    }

    /// Sets the pace (default: as recorded).
    #[must_use]
    pub fn pace(mut self, pace: Pace) -> ReplayProvider {
        self.pace = pace;
        self
    }

    /// Sets how recordings are matched to requests (default: by request).
    #[must_use]
    pub fn matching(mut self, matching: Matching) -> ReplayProvider {
        self.matching = matching;
        self
    }

    /// The exchange for `request`, counted as served.
    fn take(&self, request: &ChatRequest) -> Result<&Exchange> {
        let mut served = self
            .served
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = match self.matching {
            Matching::InOrder => {
                let total: usize = served.iter().sum();
                Some(total % self.exchanges.len())
            }
            Matching::ByRequest => self
                .exchanges
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    let model = request.model.as_deref().unwrap_or(&e.model);
                    request_json(request, model) == e.request
                })
                .min_by_key(|(i, _)| served[*i])
                .map(|(i, _)| i),
        };
        let Some(at) = at else {
            let last = request
                .messages
                .last()
                .map_or(String::new(), |m| excerpt(&m.content, 80));
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "replay: no recording matches this request (model {}, last message \"{last}\"); the recording has {} exchange(s), of models {}. Record this request first, or replay in order",
                    request.model.as_deref().unwrap_or("(default)"),
                    self.exchanges.len(),
                    self.exchanges.iter().map(|e| e.model.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        served[at] += 1;
        Ok(&self.exchanges[at])
    }
}

impl LlmStreamProvider for ReplayProvider {
    fn name(&self) -> &str {
        ReplayProvider::NAME
    }

    /// The first recording's model.
    fn default_model(&self) -> &str {
        &self.exchanges[0].model
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        match self.take(&request) {
            Ok(exchange) => {
                let model = request
                    .model
                    .clone()
                    .unwrap_or_else(|| exchange.model.clone());
                let info = StreamInfo::for_request(&exchange.provider, &request, &model)
                    .with_pricing(exchange.pricing);
                let replay = Replay {
                    items: exchange.items.clone().into_iter(),
                    started: Instant::now(),
                    pace: self.pace,
                    sleep: None,
                };
                ChatStream::new(info, replay)
            }
            Err(error) => {
                let info =
                    StreamInfo::for_request(ReplayProvider::NAME, &request, self.default_model());
                ChatStream::from_error(info, error)
            }
        }
    }
}

/// One exchange, replayed.
struct Replay {
    items: std::vec::IntoIter<Line>,
    started: Instant,
    pace: Pace,
    /// The wait for the next item, at the recorded pace.
    sleep: Option<(Pin<Box<Sleep>>, Line)>,
}

impl Stream for Replay {
    type Item = Result<Chunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some((sleep, _)) = &mut this.sleep {
                futures::ready!(sleep.as_mut().poll(cx));
                if let Some((_, line)) = this.sleep.take() {
                    return Poll::Ready(line.item());
                }
            }
            let Some(line) = this.items.next() else {
                return Poll::Ready(None);
            };
            let at = line.t_ms().filter(|t| t.is_finite() && *t > 0.0);
            match (this.pace, at) {
                (Pace::Recorded, Some(ms)) => {
                    let due = this.started + Duration::from_secs_f64((ms / 1000.0).min(86_400.0));
                    this.sleep = Some((Box::pin(tokio::time::sleep_until(due)), line));
                }
                _ => return Poll::Ready(line.item()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh file in a folder of its own, removed with the folder.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("theory_llm_replay_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("recording.jsonl")
    }

    #[test]
    fn a_recording_line_over_the_cap_is_refused() {
        // Regression (issue 24, item 13): from_file read the whole file, whatever its
        // size; a line past the cap is refused, read no further than the cap.
        let path = scratch("long_line");
        std::fs::File::create(&path)
            .unwrap()
            .set_len(ReplayProvider::MAX_LINE_BYTES as u64 + 1)
            .unwrap();
        let err = ReplayProvider::from_file(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(
            err.message().starts_with(&format!(
                "replay: {}: line 1 is longer than 64 MiB",
                path.display()
            )),
            "{err}"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_recording_is_refused_promptly() {
        // Regression (issue 24, item 13): /dev/zero as a recording grew until memory ran out.
        let err = ReplayProvider::from_file("/dev/zero").unwrap_err();
        assert!(
            err.message()
                .starts_with("replay: /dev/zero: line 1 is longer than 64 MiB"),
            "{err}"
        );
    }
}

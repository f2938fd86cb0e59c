//! `Reading`: a stream read chunk by chunk into its reply, with the crate's
//! `Collector`. The sync and async iterators and the CLI share it.

use crate::core::{ChatReply, ChatStream, Chunk, Collector, Error, LlmResult, PartialReply};
use crate::reply::{Origin, ReplyData};

/// A stream being read, and what has arrived from it.
pub(crate) struct Reading {
    /// `None` once the stream has ended, failed or been cancelled (dropping it closes
    /// the connection).
    stream: Option<ChatStream>,
    collector: Option<Collector>,
    origin: Origin,
    structured: bool,
    /// The process that started the request: a forked child may not read (nor drop)
    /// its connection.
    pid: u32,
    /// How it ended, until taken.
    ended: Option<ReplyData>,
}

/// What reading one chunk gave.
pub(crate) enum Step {
    /// A chunk, pushed into the reply.
    Chunk(Chunk),
    /// The stream is over; [`Reading::take_ended`] has the reply.
    End,
}

/// A failed reply: the error, and the whole reply when the failure came after it
/// (structured output that is not JSON).
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) whole: Option<ReplyData>,
}

impl Reading {
    pub(crate) fn new(stream: ChatStream, structured: bool) -> Reading {
        Reading {
            collector: Some(Collector::for_stream(&stream)),
            origin: Origin::of(&stream),
            stream: Some(stream),
            structured,
            pid: std::process::id(),
            ended: None,
        }
    }

    /// The provider and model of the request.
    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Whether this process started the request (not its parent, before a fork).
    pub(crate) fn in_this_process(&self) -> bool {
        self.pid == std::process::id()
    }

    /// The stream, while it is open.
    pub(crate) fn stream(&mut self) -> Option<&mut ChatStream> {
        self.stream.as_mut()
    }

    /// The stream, to be read elsewhere (`ReadAhead`) and its items given to
    /// [`advance`](Self::advance).
    pub(crate) fn take_stream(&mut self) -> Option<ChatStream> {
        self.stream.take()
    }

    /// Takes in what the stream yielded next.
    pub(crate) fn advance(&mut self, item: Option<LlmResult<Chunk>>) -> Result<Step, Failure> {
        let chunk = match item {
            Some(Ok(chunk)) => chunk,
            Some(Err(error)) => return Err(self.fail(error)),
            None => return self.finish(),
        };
        if let Some(collector) = self.collector.as_mut() {
            if let Err(error) = collector.push(&chunk) {
                return Err(self.fail(error));
            }
        }
        Ok(Step::Chunk(chunk))
    }

    /// The end of the stream: the reply, read as JSON for structured output.
    fn finish(&mut self) -> Result<Step, Failure> {
        self.stream = None;
        let Some(collector) = self.collector.take() else {
            return Ok(Step::End);
        };
        let reply = collector
            .finish()
            .map_err(|error| Failure { error, whole: None })?;
        self.ended = Some(finished(reply, self.structured)?);
        Ok(Step::End)
    }

    /// Ends the reading with `error`, which carries what had arrived.
    fn fail(&mut self, error: Error) -> Failure {
        self.stream = None;
        let error = match self.collector.take().map(|c| c.partial()) {
            Some(partial) if !partial.is_empty() => error.with_partial(partial),
            _ => error,
        };
        Failure { error, whole: None }
    }

    /// Stops reading: drops the stream, which cancels the request; the reply is what
    /// had arrived, finished as `cancelled`.
    pub(crate) fn cancel(&mut self) {
        if let Some(stream) = self.stream.take() {
            self.release(stream);
        }
        if let Some(collector) = self.collector.take() {
            self.ended = Some(ReplyData::Whole {
                reply: Box::new(collector.cancel()),
                json: None,
            });
        }
    }

    /// The reply, once the stream has ended or been cancelled (taken once).
    pub(crate) fn take_ended(&mut self) -> Option<ReplyData> {
        self.ended.take()
    }

    /// What had arrived so far (for an interrupted CLI run).
    pub(crate) fn partial(&self) -> Option<PartialReply> {
        let partial = self.collector.as_ref()?.partial();
        (!partial.is_empty()).then_some(partial)
    }

    /// Drops `stream` in the process that opened it; in a forked child, forgets it:
    /// its connection and timers belong to the parent's runtime.
    fn release(&self, stream: ChatStream) {
        if self.in_this_process() {
            drop(stream);
        } else {
            std::mem::forget(stream);
        }
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            self.release(stream);
        }
    }
}

/// A whole reply as this package gives it: with its JSON parsed, for structured
/// output. JSON that does not parse fails, saying why (refused, cut short, not JSON),
/// with the reply attached.
pub(crate) fn finished(reply: ChatReply, structured: bool) -> Result<ReplyData, Failure> {
    if !structured {
        return Ok(ReplyData::Whole {
            reply: Box::new(reply),
            json: None,
        });
    }
    match reply.json::<serde_json::Value>() {
        Ok(json) => Ok(ReplyData::Whole {
            reply: Box::new(reply),
            json: Some(json),
        }),
        Err(error) => Err(Failure {
            error,
            whole: Some(ReplyData::Whole {
                reply: Box::new(reply),
                json: None,
            }),
        }),
    }
}

//! `ReadAhead`: a stream read by a task of the runtime into a small bounded queue, for
//! a Python thread to take from.
//!
//! Polled from a Python thread, a stream costs two thread switches per chunk: hyper
//! hands the body over one frame at a time, and the connection's task runs on a
//! runtime thread. Read by a runtime task, the stream and its connection are on the
//! same thread, and the Python thread wakes once for whatever has arrived. The queue
//! is bounded (backpressure: a slow reader stops the reading), and stopping the task
//! drops the stream, which closes the connection.

use std::pin::pin;

use futures::StreamExt;
use pyo3::prelude::*;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{self, Receiver};
use tokio::task::AbortHandle;

use crate::core::{ChatStream, Chunk, LlmResult};
use crate::runtime::{wait, ProcessRuntime};

/// How many stream items may wait for the reader.
const AHEAD: usize = 64;

pub(crate) struct ReadAhead {
    rt: ProcessRuntime,
    /// `None` once dropped (in a forked child, forgotten).
    items: Option<Receiver<LlmResult<Chunk>>>,
    task: AbortHandle,
}

impl ReadAhead {
    /// Starts reading `stream` (this sends the request).
    pub(crate) fn start(rt: ProcessRuntime, mut stream: ChatStream) -> ReadAhead {
        let (sender, items) = mpsc::channel(AHEAD);
        let task = rt.rt.spawn(async move {
            while let Some(item) = stream.next().await {
                if sender.send(item).await.is_err() {
                    return;
                }
            }
        });
        ReadAhead {
            rt,
            items: Some(items),
            task: task.abort_handle(),
        }
    }

    /// The stream's next item (`None` at its end), waiting for it if need be with
    /// the interpreter lock released; an error only from a signal handler (Ctrl-C).
    pub(crate) fn next(&mut self, py: Python<'_>) -> PyResult<Option<LlmResult<Chunk>>> {
        let Some(items) = self.items.as_mut() else {
            return Ok(None);
        };
        match items.try_recv() {
            Ok(item) => Ok(Some(item)),
            Err(TryRecvError::Disconnected) => Ok(None),
            Err(TryRecvError::Empty) => wait(py, self.rt.rt, pin!(items.recv())),
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        if self.rt.is_current() {
            // Dropping the task's future drops the stream: the connection closes.
            self.task.abort();
        } else {
            // A forked child: the task and the queue are the parent's runtime's.
            std::mem::forget(self.items.take());
        }
    }
}

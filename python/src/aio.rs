//! The asyncio API: `achat` and `astream_chat`.
//!
//! The Rust futures run on this process's tokio runtime (the one `runtime.rs` rebuilds
//! after a fork; pyo3-async-runtimes keeps one global runtime, which a forked child
//! could not replace, and completes futures by taking the interpreter lock on the
//! runtime's threads). Each wait is an asyncio future of the caller's loop:
//! - completed from the runtime through the loop's waker (`wake.rs`), and turned into
//!   Python objects on the loop's own thread;
//! - cancelled from Python through a done-callback that aborts the Rust task, which
//!   drops the stream and so closes the connection.
//!
//! A stream read faster than it arrives never leaves the loop's thread: a chunk already
//! received is taken at once.

use std::sync::{Arc, Mutex, PoisonError};

use futures::{FutureExt, StreamExt};
use pyo3::exceptions::{PyRuntimeError, PyStopAsyncIteration};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;
use tokio::task::AbortHandle;

use crate::core::{ChatRequest, ChatStream, Chunk, SharedProvider, Text};
use crate::errors::exception;
use crate::provider::{origin, reply_or_raise};
use crate::reading::{Failure, Reading, Step};
use crate::reply::LLMReply;
use crate::request;
use crate::runtime::{runtime, ProcessRuntime};
use crate::wake::{waker_of, Make};

static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static AWAITING: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    GET_RUNNING_LOOP
        .import(py, "asyncio", "get_running_loop")?
        .call0()
}

/// A future of `event_loop`, already done with `value`.
fn ready<'py>(
    event_loop: &Bound<'py, PyAny>,
    value: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let future = event_loop.call_method0("create_future")?;
    future.call_method1("set_result", (value,))?;
    Ok(future)
}

/// A done-callback: a cancelled future aborts its Rust task (dropping its stream),
/// and ends the async stream it was reading, if any.
#[pyclass(frozen)]
struct AbortOnCancel {
    task: AbortHandle,
    stream: Option<Arc<Mutex<State>>>,
}

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0("cancelled")?.is_truthy()? {
            self.task.abort();
            if let Some(state) = &self.stream {
                *state.lock().unwrap_or_else(PoisonError::into_inner) = State::Done;
            }
        }
        Ok(())
    }
}

/// Starts an `achat` request when its coroutine first runs (not when it is made).
#[pyclass(frozen)]
struct StartChat {
    start: Mutex<Option<(SharedProvider, ChatRequest, bool)>>,
}

#[pymethods]
impl StartChat {
    fn __call__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let taken = self
            .start
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some((llm, request, structured)) = taken else {
            return Err(PyRuntimeError::new_err("this request was already started"));
        };
        let event_loop = running_loop(py)?;
        let future = event_loop.call_method0("create_future")?;
        let rt = runtime()?;
        let origin = origin(llm.as_ref(), &request);
        let wake = waker_of(py, &event_loop)?;
        let future_ref = future.clone().unbind();
        let task = rt.rt.spawn(async move {
            let result = llm.chat(request).await;
            let make: Make = Box::new(move |py| {
                reply_or_raise(py, result, structured, &origin).map(Py::into_any)
            });
            wake.complete(future_ref, make);
        });
        let on_done = AbortOnCancel {
            task: task.abort_handle(),
            stream: None,
        };
        future.call_method1("add_done_callback", (on_done,))?;
        Ok(future)
    }
}

/// `achat`: a coroutine (see `theory_llm/_aio.py`) that starts the request when it
/// first runs.
pub(crate) fn achat<'py>(
    py: Python<'py>,
    llm: SharedProvider,
    call: request::Call,
) -> PyResult<Bound<'py, PyAny>> {
    let start = StartChat {
        start: Mutex::new(Some((llm, call.request, call.structured))),
    };
    AWAITING
        .import(py, "theory_llm._aio", "_awaiting")?
        .call1((start,))
}

/// `astream_chat`: the async iterator of `stream`.
pub(crate) fn astream_chat(
    rt: ProcessRuntime,
    stream: ChatStream,
    structured: bool,
) -> AsyncChatIterator {
    AsyncChatIterator {
        rt,
        state: Arc::new(Mutex::new(State::Idle(Box::new(Reading::new(
            stream, structured,
        ))))),
        task: None,
        reply: Arc::new(Mutex::new(None)),
    }
}

/// Where an async stream's reading is.
enum State {
    /// Waiting for the next `__anext__`.
    Idle(Box<Reading>),
    /// A task is reading the next piece.
    Busy,
    /// Ended, failed or closed.
    Done,
}

/// What a wait for the next piece came to.
enum Next {
    Piece(Text),
    End,
    Failed(Failure),
}

/// Reads up to the next text piece without waiting; `None` if it would wait.
fn next_ready(reading: &mut Reading) -> Option<Next> {
    loop {
        let stream = reading.stream()?;
        let item = stream.next().now_or_never()?;
        match reading.advance(item) {
            Ok(Step::Chunk(Chunk::Text(text))) => return Some(Next::Piece(text)),
            Ok(Step::Chunk(_)) => continue,
            Ok(Step::End) => return Some(Next::End),
            Err(failure) => return Some(Next::Failed(failure)),
        }
    }
}

/// Reads up to the next text piece.
async fn next_piece(reading: &mut Reading) -> Next {
    loop {
        let item = match reading.stream() {
            Some(stream) => stream.next().await,
            None => return Next::End,
        };
        match reading.advance(item) {
            Ok(Step::Chunk(Chunk::Text(text))) => return Next::Piece(text),
            Ok(Step::Chunk(_)) => continue,
            Ok(Step::End) => return Next::End,
            Err(failure) => return Next::Failed(failure),
        }
    }
}

/// The text pieces of a reply, for `async for`; `.reply` once it has ended.
#[pyclass(module = "theory_llm", name = "AsyncChatStream")]
pub(crate) struct AsyncChatIterator {
    rt: ProcessRuntime,
    state: Arc<Mutex<State>>,
    /// The task reading the next piece, if one is.
    task: Option<AbortHandle>,
    reply: Arc<Mutex<Option<Py<LLMReply>>>>,
}

/// What the piece of `next` is, or its end, as Python sees it. At the end, the reply
/// is kept in `reply`.
fn outcome(
    py: Python<'_>,
    next: Next,
    reading: &mut Reading,
    reply: &Mutex<Option<Py<LLMReply>>>,
) -> PyResult<Py<PyAny>> {
    match next {
        Next::Piece(text) => Ok(PyString::new(py, &text).into_any().unbind()),
        Next::End => {
            if let Some(data) = reading.take_ended() {
                *reply.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(Py::new(py, LLMReply::new(data))?);
            }
            Err(PyStopAsyncIteration::new_err(()))
        }
        Next::Failed(failure) => {
            let origin = reading.origin().clone();
            Err(exception(py, failure.error, Some(&origin), failure.whole))
        }
    }
}

impl AsyncChatIterator {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl AsyncChatIterator {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut reading = match std::mem::replace(&mut *self.lock(), State::Busy) {
            State::Idle(reading) => reading,
            State::Busy => {
                return Err(PyRuntimeError::new_err(
                    "anext() called while another anext() of this stream is running",
                ))
            }
            State::Done => {
                *self.lock() = State::Done;
                return Err(PyStopAsyncIteration::new_err(()));
            }
        };
        if !reading.in_this_process() {
            std::mem::forget(reading);
            *self.lock() = State::Done;
            return Err(PyRuntimeError::new_err(
                "this stream was started in another process (before a fork): start a new one here",
            ));
        }
        let event_loop = running_loop(py)?;
        let ready_now = {
            let _entered = self.rt.rt.enter();
            next_ready(&mut reading)
        };
        if let Some(next) = ready_now {
            let over = !matches!(next, Next::Piece(_));
            let result = outcome(py, next, &mut reading, &self.reply);
            *self.lock() = if over {
                State::Done
            } else {
                State::Idle(reading)
            };
            return ready(&event_loop, result?.into_bound(py));
        }
        let future = event_loop.call_method0("create_future")?;
        let wake = waker_of(py, &event_loop)?;
        let future_ref = future.clone().unbind();
        let (state, reply) = (self.state.clone(), self.reply.clone());
        let task = self.rt.rt.spawn(async move {
            let next = next_piece(&mut reading).await;
            let over = !matches!(next, Next::Piece(_));
            let make: Make = Box::new(move |py| {
                let result = outcome(py, next, &mut reading, &reply);
                let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                *state = if over {
                    State::Done
                } else {
                    State::Idle(reading)
                };
                result
            });
            wake.complete(future_ref, make);
        });
        let on_done = AbortOnCancel {
            task: task.abort_handle(),
            stream: Some(self.state.clone()),
        };
        future.call_method1("add_done_callback", (on_done,))?;
        self.task = Some(task.abort_handle());
        Ok(future)
    }

    /// Stops reading and cancels the request (the connection is closed).
    fn aclose<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.close(py)?;
        ready(&running_loop(py)?, py.None().into_bound(py))
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        ready(&running_loop(py)?, slf.into_any())
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &mut self,
        py: Python<'py>,
        _exc: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.close(py)?;
        ready(
            &running_loop(py)?,
            pyo3::types::PyBool::new(py, false).to_owned().into_any(),
        )
    }

    /// The whole reply once the stream has ended (or what had arrived, once it was
    /// closed early); None before.
    #[getter]
    fn reply(&self, py: Python<'_>) -> Option<Py<LLMReply>> {
        self.reply
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|r| r.clone_ref(py))
    }
}

impl AsyncChatIterator {
    /// Cancels the request: the task reading it, or the idle stream.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let state = std::mem::replace(&mut *self.lock(), State::Done);
        if let State::Idle(mut reading) = state {
            reading.cancel();
            if let Some(data) = reading.take_ended() {
                *self.reply.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(Py::new(py, LLMReply::new(data))?);
            }
        }
        Ok(())
    }
}

impl Drop for AsyncChatIterator {
    fn drop(&mut self) {
        // Garbage collected with a piece being read: that task is the request.
        if let Some(task) = self.task.take() {
            if self.rt.is_current() {
                task.abort();
            }
        }
    }
}

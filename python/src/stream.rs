//! `ChatStream` for Python: the iterator `stream_chat` returns. The first `next()`
//! starts the request (a `ReadAhead`); each `next()` takes chunks up to the next text
//! piece; closing it (`close()`, leaving a `with` block, garbage collection) stops
//! the reading, which drops the Rust stream and closes the connection.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use sync_wrapper::SyncWrapper;

use crate::ahead::ReadAhead;
use crate::core::Chunk;
use crate::errors::exception;
use crate::reading::{Reading, Step};
use crate::reply::LLMReply;
use crate::runtime::ProcessRuntime;

/// The text pieces of a reply, as they arrive; `.reply` once it has ended.
#[pyclass(module = "theory_llm", name = "ChatStream")]
pub(crate) struct ChatIterator {
    rt: ProcessRuntime,
    reading: SyncWrapper<Reading>,
    /// The request, once started.
    ahead: SyncWrapper<Option<ReadAhead>>,
    reply: Option<Py<LLMReply>>,
}

impl ChatIterator {
    pub(crate) fn new(rt: ProcessRuntime, reading: Reading) -> ChatIterator {
        ChatIterator {
            rt,
            reading: SyncWrapper::new(reading),
            ahead: SyncWrapper::new(None),
            reply: None,
        }
    }

    /// Keeps the reply, once the reading has one.
    fn keep_reply(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(data) = self.reading.get_mut().take_ended() {
            self.reply = Some(Py::new(py, LLMReply::new(data))?);
        }
        Ok(())
    }
}

#[pymethods]
impl ChatIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        if !self.reading.get_mut().in_this_process() {
            return Err(PyRuntimeError::new_err(
                "this stream was started in another process (before a fork): its connection is not this process's; start a new one here",
            ));
        }
        loop {
            if self.ahead.get_mut().is_none() {
                let Some(stream) = self.reading.get_mut().take_stream() else {
                    self.keep_reply(py)?;
                    return Ok(None);
                };
                *self.ahead.get_mut() = Some(ReadAhead::start(self.rt, stream));
            }
            let next = match self.ahead.get_mut() {
                Some(ahead) => ahead.next(py),
                None => Ok(None),
            };
            let item = match next {
                Ok(item) => item,
                Err(interrupted) => {
                    // Ctrl-C: the request is cancelled.
                    self.close(py)?;
                    return Err(interrupted);
                }
            };
            match self.reading.get_mut().advance(item) {
                Ok(Step::Chunk(Chunk::Text(text))) => return Ok(Some(PyString::new(py, &text))),
                Ok(Step::Chunk(_)) => continue,
                Ok(Step::End) => {
                    *self.ahead.get_mut() = None;
                    self.keep_reply(py)?;
                    return Ok(None);
                }
                Err(failure) => {
                    *self.ahead.get_mut() = None;
                    let origin = self.reading.get_mut().origin().clone();
                    return Err(exception(py, failure.error, Some(&origin), failure.whole));
                }
            }
        }
    }

    /// Stops reading and cancels the request (the connection is closed). `.reply` is
    /// then what had arrived, finished as `"cancelled"`.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        *self.ahead.get_mut() = None;
        self.reading.get_mut().cancel();
        self.keep_reply(py)
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        _exc: &Bound<'_, pyo3::types::PyTuple>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// The whole reply once the stream has ended (or what had arrived, once it was
    /// closed early); None before.
    #[getter]
    fn reply(&self, py: Python<'_>) -> Option<Py<LLMReply>> {
        self.reply.as_ref().map(|r| r.clone_ref(py))
    }
}

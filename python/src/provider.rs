//! `Provider`: a Rust provider held for Python, shared by threads and tasks, and
//! rebuilt in a forked child; its `chat` and `stream_chat` (the async pair is in
//! `aio.rs`).
//!
//! A provider's HTTP client holds connections and tasks of the runtime that used it.
//! After `fork()` they belong to the parent (the child shares its sockets and has
//! none of its threads), so a child builds the provider again from its recipe, with
//! a fresh client, and leaves the parent's untouched.

use std::sync::Arc;

use arc_swap::ArcSwap;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::aio::{self, AsyncChatIterator};
use crate::core::{
    ChatReply, ChatRequest, ChatStream, LlmResult, LlmStreamProvider, SharedProvider,
};
use crate::errors::exception;
use crate::reading::{finished, Failure, Reading};
use crate::reply::{LLMReply, Origin};
use crate::request;
use crate::runtime::{run, runtime, ProcessRuntime};
use crate::stream::ChatIterator;

/// How to build the provider: called once, and once more in each forked child.
pub(crate) type Recipe = Arc<dyn Fn() -> LlmResult<Box<dyn LlmStreamProvider>> + Send + Sync>;

/// The provider as built by one process.
struct Built {
    pid: u32,
    /// Always `Some` until dropped.
    llm: Option<SharedProvider>,
}

impl Drop for Built {
    fn drop(&mut self) {
        // The parent's client, in a child: its connections and tasks are the parent's.
        if self.pid != std::process::id() {
            if let Some(llm) = self.llm.take() {
                std::mem::forget(llm);
            }
        }
    }
}

/// An LLM provider: `chat`, `stream_chat`, `achat`, `astream_chat`.
#[pyclass(subclass, frozen, module = "theory_llm", name = "Provider")]
pub(crate) struct Provider {
    recipe: Recipe,
    built: ArcSwap<Built>,
    name: String,
    default_model: String,
}

impl Provider {
    /// Builds the provider now: a provider that cannot be built (a missing key, a
    /// bad URL) raises here, not at the first request.
    pub(crate) fn new(py: Python<'_>, recipe: Recipe) -> PyResult<Provider> {
        let llm = build(py, &recipe)?;
        Ok(Provider {
            name: llm.name().to_owned(),
            default_model: llm.default_model().to_owned(),
            built: ArcSwap::from_pointee(Built {
                pid: std::process::id(),
                llm: Some(llm),
            }),
            recipe,
        })
    }

    /// The provider for this process (built again after a fork).
    pub(crate) fn current(&self, py: Python<'_>) -> PyResult<SharedProvider> {
        let pid = std::process::id();
        {
            let built = self.built.load();
            if built.pid == pid {
                if let Some(llm) = &built.llm {
                    return Ok(llm.clone());
                }
            }
        }
        let llm = build(py, &self.recipe)?;
        // Another thread may have rebuilt it too: either is good.
        self.built.store(Arc::new(Built {
            pid,
            llm: Some(llm.clone()),
        }));
        Ok(llm)
    }

    /// The request's stream, opened lazily (nothing is sent before it is polled).
    pub(crate) fn open(
        &self,
        py: Python<'_>,
        request: ChatRequest,
    ) -> PyResult<(ProcessRuntime, ChatStream)> {
        let llm = self.current(py)?;
        let rt = runtime()?;
        // Timers are registered with the runtime when a stream is made.
        let _entered = rt.rt.enter();
        Ok((rt, llm.stream_chat(request)))
    }
}

fn build(py: Python<'_>, recipe: &Recipe) -> PyResult<SharedProvider> {
    let rt = runtime()?;
    let _entered = rt.rt.enter();
    match recipe() {
        Ok(llm) => Ok(Arc::from(llm)),
        Err(e) => Err(exception(py, e, None, None)),
    }
}

/// The reply of `result`, or its error as an exception.
pub(crate) fn reply_or_raise(
    py: Python<'_>,
    result: LlmResult<ChatReply>,
    structured: bool,
    origin: &Origin,
) -> PyResult<Py<LLMReply>> {
    let data = result
        .map_err(|error| Failure { error, whole: None })
        .and_then(|reply| finished(reply, structured));
    match data {
        Ok(data) => Py::new(py, LLMReply::new(data)),
        Err(failure) => Err(exception(py, failure.error, Some(origin), failure.whole)),
    }
}

/// The provider and model a request goes to.
pub(crate) fn origin(llm: &dyn LlmStreamProvider, request: &ChatRequest) -> Origin {
    Origin {
        provider: llm.name().to_owned(),
        model: request
            .model
            .clone()
            .unwrap_or_else(|| llm.default_model().to_owned()),
    }
}

#[pymethods]
impl Provider {
    /// The provider's name: `"mock"`, `"openai"`, `"ollama"`, ...
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The model used when a request names none.
    #[getter]
    fn default_model(&self) -> &str {
        &self.default_model
    }

    /// The whole reply. Blocks the calling thread, not the others (the interpreter
    /// lock is released while it waits); Ctrl-C cancels the request.
    #[pyo3(signature = (prompt = None, **kwargs))]
    fn chat(
        &self,
        py: Python<'_>,
        prompt: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<LLMReply>> {
        let call = request::call(py, "chat", prompt, kwargs)?;
        let llm = self.current(py)?;
        let origin = origin(llm.as_ref(), &call.request);
        let rt = runtime()?;
        let request = call.request;
        let result = run(py, &rt, async move { llm.chat(request).await })?;
        reply_or_raise(py, result, call.structured, &origin)
    }

    /// The reply's text pieces as they arrive. Returns at once: the request is sent
    /// on the first `next()`. `.reply` is the whole reply once the stream has ended.
    #[pyo3(signature = (prompt = None, **kwargs))]
    fn stream_chat(
        &self,
        py: Python<'_>,
        prompt: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<ChatIterator> {
        let call = request::call(py, "stream_chat", prompt, kwargs)?;
        let (rt, stream) = self.open(py, call.request)?;
        Ok(ChatIterator::new(rt, Reading::new(stream, call.structured)))
    }

    /// `chat`, for asyncio: a coroutine of the whole reply. The request is sent when
    /// it is awaited; cancelling the task cancels the request.
    #[pyo3(signature = (prompt = None, **kwargs))]
    fn achat<'py>(
        &self,
        py: Python<'py>,
        prompt: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = request::call(py, "achat", prompt, kwargs)?;
        aio::achat(py, self.current(py)?, call)
    }

    /// `stream_chat`, for asyncio: `async for piece in llm.astream_chat(...)`. The
    /// request is sent on the first iteration.
    #[pyo3(signature = (prompt = None, **kwargs))]
    fn astream_chat(
        &self,
        py: Python<'_>,
        prompt: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<AsyncChatIterator> {
        let call = request::call(py, "astream_chat", prompt, kwargs)?;
        let (rt, stream) = self.open(py, call.request)?;
        Ok(aio::astream_chat(rt, stream, call.structured))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let this = slf.get();
        Ok(format!(
            "<theory_llm.{} name={:?} default_model={:?}>",
            slf.get_type().name()?,
            this.name,
            this.default_model
        ))
    }
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("default_model", &self.default_model)
            .finish_non_exhaustive()
    }
}

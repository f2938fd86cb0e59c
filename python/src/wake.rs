//! Completing asyncio futures from the runtime's threads without touching Python
//! there.
//!
//! A runtime thread never takes the interpreter lock: at interpreter exit, CPython
//! ends a thread that asks for the lock (`pthread_exit`), unwinding through Rust
//! frames that hold Python objects, which crashed the process. Instead each event
//! loop has a `LoopWaker`: a socket pair whose read end the loop watches
//! (`loop.add_reader`). A runtime thread queues the completion and writes one byte;
//! the loop's thread reads it and sets the futures' results, with the lock, as any
//! other callback of the loop.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// What makes a future's result (or exception), on the loop's thread.
pub(crate) type Make = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// A future to complete, and how.
struct Completion {
    future: Py<PyAny>,
    make: Make,
}

/// The runtime's side of a loop's waker.
pub(crate) struct Wake {
    queue: Mutex<Vec<Completion>>,
    write: UnixStream,
}

impl Wake {
    /// Completes `future` (of this waker's loop) with what `make` makes, on the loop's
    /// thread. Called from any thread; takes no interpreter lock.
    pub(crate) fn complete(&self, future: Py<PyAny>, make: Make) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Completion { future, make });
        // One byte is enough: a full socket already has a wake-up pending.
        let _ = (&self.write).write(&[1]);
    }
}

/// An event loop's waker (one per loop, made by `theory_llm._aio._waker`).
#[pyclass(frozen, module = "theory_llm")]
pub(crate) struct LoopWaker {
    wake: Arc<Wake>,
    read: UnixStream,
}

#[pymethods]
impl LoopWaker {
    #[new]
    fn new() -> PyResult<LoopWaker> {
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        Ok(LoopWaker {
            wake: Arc::new(Wake {
                queue: Mutex::new(Vec::new()),
                write,
            }),
            read,
        })
    }

    /// The file descriptor the loop watches.
    fn fileno(&self) -> i32 {
        self.read.as_raw_fd()
    }

    /// The loop's reader callback: completes the futures queued so far. A future
    /// cancelled meanwhile is left as it is.
    fn drain(&self, py: Python<'_>) {
        let mut buf = [0u8; 256];
        loop {
            match (&self.read).read(&mut buf) {
                Ok(n) if n == buf.len() => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                _ => break,
            }
        }
        let ready = std::mem::take(
            &mut *self
                .wake
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for Completion { future, make } in ready {
            let future = future.bind(py);
            if !matches!(
                future.call_method0("done").and_then(|d| d.is_truthy()),
                Ok(false)
            ) {
                continue;
            }
            // A failure to set it (the loop is closing) leaves nobody waiting.
            let _ = match make(py) {
                Ok(value) => future.call_method1("set_result", (value,)),
                Err(error) => future.call_method1("set_exception", (error.value(py),)),
            };
        }
    }
}

static WAKER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The waker of `event_loop` (made and registered on first use).
pub(crate) fn waker_of(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Wake>> {
    let waker = WAKER
        .import(py, "theory_llm._aio", "_waker")?
        .call1((event_loop,))?;
    Ok(waker.cast_into::<LoopWaker>()?.get().wake.clone())
}

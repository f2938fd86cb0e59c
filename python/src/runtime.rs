//! The tokio runtime of this process, and how a Python thread waits on it.
//!
//! A runtime's worker threads do not survive `fork()`: the child has the runtime's
//! memory but none of its threads, so anything waiting on it would wait forever. So a
//! runtime belongs to the process that built it ([`ProcessRuntime::pid`]); a child
//! finds the pid changed and builds its own, and never touches (nor drops) the
//! parent's, whose locks may have been held at the fork.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use futures::FutureExt;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

/// How long a blocking wait runs before it looks up to run Python's signal handlers:
/// Ctrl-C interrupts a wait within this (plus the time to take the interpreter lock).
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// The runtime of one process. Runtimes are never dropped: dropping one joins its
/// threads, which in a forked child do not exist.
#[derive(Clone, Copy)]
pub(crate) struct ProcessRuntime {
    /// The process that built it.
    pub(crate) pid: u32,
    pub(crate) rt: &'static Runtime,
}

/// The current process's runtime (lock-free: a lock held by another thread at the
/// moment of a fork would stay locked in the child).
static CURRENT: ArcSwapOption<ProcessRuntime> = ArcSwapOption::const_empty();

impl ProcessRuntime {
    /// Whether this runtime was built by the running process.
    pub(crate) fn is_current(&self) -> bool {
        self.pid == std::process::id()
    }
}

/// The pid of the process whose thread is building a runtime (0: none). A pid rather
/// than a flag, so that a build interrupted by a fork does not stop the child's.
static BUILDING: AtomicU32 = AtomicU32::new(0);

/// The runtime of the running process, built on first use (and again after a fork).
pub(crate) fn runtime() -> PyResult<ProcessRuntime> {
    let pid = std::process::id();
    loop {
        if let Some(current) = CURRENT.load().as_deref() {
            if current.pid == pid {
                return Ok(*current);
            }
        }
        let holder = BUILDING.load(Ordering::Acquire);
        if holder == pid {
            // Another thread of this process is building it.
            std::thread::yield_now();
            continue;
        }
        if BUILDING
            .compare_exchange(holder, pid, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            continue;
        }
        let built = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("theory-llm")
            .enable_all()
            .build();
        let result = match built {
            Ok(rt) => {
                let fresh = ProcessRuntime {
                    pid,
                    rt: Box::leak(Box::new(rt)),
                };
                CURRENT.store(Some(Arc::new(fresh)));
                Ok(fresh)
            }
            Err(e) => Err(PyRuntimeError::new_err(format!(
                "cannot start the async runtime: {e}"
            ))),
        };
        BUILDING.store(0, Ordering::Release);
        return result;
    }
}

/// Drives `future` to its end on `rt`, with the interpreter lock released while it
/// waits, so that other Python threads run. Every [`SIGNAL_CHECK`] it takes the lock
/// back to run Python's signal handlers: when one raises (Ctrl-C raises
/// `KeyboardInterrupt`), that error is returned and the caller drops the future,
/// which cancels its request.
///
/// A future that is ready at once (a chunk already received) is polled without
/// releasing the lock: the common case of a stream read faster than it arrives costs
/// no thread switch.
pub(crate) fn wait<F>(py: Python<'_>, rt: &Runtime, mut future: Pin<&mut F>) -> PyResult<F::Output>
where
    F: Future + Send + ?Sized,
    F::Output: Send,
{
    {
        let _entered = rt.enter();
        if let Some(output) = future.as_mut().now_or_never() {
            return Ok(output);
        }
    }
    loop {
        // The timer is made inside `block_on`: it needs the runtime's context.
        let slice = py.detach(|| {
            rt.block_on(async { tokio::time::timeout(SIGNAL_CHECK, future.as_mut()).await })
        });
        match slice {
            Ok(output) => return Ok(output),
            Err(_elapsed) => py.check_signals()?,
        }
    }
}

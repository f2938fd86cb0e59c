//! The tokio runtime of this process, and how a Python thread waits on it.
//!
//! A runtime's worker threads do not survive `fork()`: the child has the runtime's
//! memory but none of its threads, so anything waiting on it would wait forever. So a
//! runtime belongs to the process that built it ([`ProcessRuntime::pid`]); a child
//! finds the pid changed and builds its own, and never touches (nor drops) the
//! parent's, whose locks may have been held at the fork.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use std::time::Instant;

use arc_swap::ArcSwapOption;
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
            .worker_threads(1)
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

/// Wakes the thread that waits in [`wait`].
struct ThreadWaker {
    thread: std::thread::Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

thread_local! {
    /// This thread's waker, made once (a wait per chunk would otherwise allocate one).
    static THREAD_WAKER: (Arc<ThreadWaker>, Waker) = {
        let waker = Arc::new(ThreadWaker {
            thread: std::thread::current(),
            woken: AtomicBool::new(false),
        });
        (waker.clone(), Waker::from(waker))
    };
}

/// Drives `future` to its end, polling it on this thread in `rt`'s context (the
/// runtime's threads drive the sockets and timers and wake this one). While it
/// waits, the interpreter lock is released, so that other Python threads run; every
/// [`SIGNAL_CHECK`] of waiting it runs Python's signal handlers: when one raises
/// (Ctrl-C raises `KeyboardInterrupt`), that error is returned and the caller drops
/// the future, which cancels its request.
///
/// The future is polled with the lock held: a poll is a few microseconds of decoding,
/// less than releasing and taking back the lock would cost. A thread that reads a
/// stream faster than it arrives pays one park and one wake per chunk, and no timer.
pub(crate) fn wait<F>(py: Python<'_>, rt: &Runtime, mut future: Pin<&mut F>) -> PyResult<F::Output>
where
    F: Future + ?Sized,
{
    let _entered = rt.enter();
    THREAD_WAKER.with(|(thread_waker, waker)| {
        let mut cx = Context::from_waker(waker);
        let mut slice_end: Option<Instant> = None;
        loop {
            // Cleared before the poll: a wake during the poll is not lost.
            thread_waker.woken.store(false, Ordering::Release);
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return Ok(output);
            }
            let end = *slice_end.get_or_insert_with(|| Instant::now() + SIGNAL_CHECK);
            let timed_out = py.detach(|| loop {
                if thread_waker.woken.load(Ordering::Acquire) {
                    return false;
                }
                let now = Instant::now();
                if now >= end {
                    return true;
                }
                std::thread::park_timeout(end - now);
            });
            if timed_out {
                py.check_signals()?;
                slice_end = None;
            }
        }
    })
}

/// Runs `future` as a task of `rt` and waits for it as [`wait`] does: the whole of it
/// runs on the runtime's threads, with the interpreter lock released throughout.
/// When the wait ends early (Ctrl-C), the task is aborted: its future is dropped.
pub(crate) fn run<F>(py: Python<'_>, rt: &ProcessRuntime, future: F) -> PyResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Aborts the task unless it finished (and only in the process that runs it).
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>, ProcessRuntime);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            if self.1.is_current() {
                self.0.abort();
            }
        }
    }

    let mut task = AbortOnDrop(rt.rt.spawn(future), *rt);
    match wait(py, rt.rt, Pin::new(&mut task.0))? {
        Ok(output) => Ok(output),
        Err(e) => Err(PyRuntimeError::new_err(format!(
            "the request's task failed: {e}"
        ))),
    }
}

//! The stream's own rules (one finish, nothing after it) and its time limits, on the
//! paused clock.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::time::Instant;

use super::*;
use crate::chunk::{Finish, FinishReason};
use futures::StreamExt;

fn info() -> StreamInfo {
    StreamInfo::new("test", "m")
}

#[tokio::test]
async fn a_stream_without_finish_is_a_protocol_error() {
    let inner = futures::stream::iter(vec![Ok(Chunk::Text("a".into()))]);
    let items: Vec<_> = ChatStream::new(info(), inner).collect().await;
    assert_eq!(items.len(), 2);
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("truncated"));
}

#[tokio::test]
async fn nothing_is_yielded_after_finish_or_error() {
    let inner = futures::stream::iter(vec![
        Ok(Chunk::from(Finish::new(FinishReason::Stop))),
        Ok(Chunk::Text("late".into())),
    ]);
    assert_eq!(
        ChatStream::new(info(), inner)
            .collect::<Vec<_>>()
            .await
            .len(),
        1
    );
    let inner = futures::stream::iter(vec![
        Err(Error::new(ErrorKind::Server, "x")),
        Ok(Chunk::Text("late".into())),
    ]);
    assert_eq!(
        ChatStream::new(info(), inner)
            .collect::<Vec<_>>()
            .await
            .len(),
        1
    );
}

fn pending_after(chunks: Vec<Chunk>) -> impl Stream<Item = Result<Chunk>> + Send {
    futures::stream::iter(chunks.into_iter().map(Ok)).chain(futures::stream::pending())
}

#[tokio::test(start_paused = true)]
async fn first_chunk_timeout_names_the_phase() {
    let t = Timeouts::default().first_chunk(Duration::from_secs(3));
    let mut s = ChatStream::new(info().with_timeouts(t), pending_after(vec![]));
    let start = Instant::now();
    let err = s.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("first-chunk"), "{err}");
    assert!(err.to_string().contains("3 s"), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert!(s.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_counts_from_the_last_chunk() {
    let t = Timeouts::default()
        .first_chunk(Duration::from_secs(100))
        .idle(Duration::from_secs(2));
    let inner = futures::stream::unfold(0u32, |n| async move {
        if n < 3 {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Some((Ok(Chunk::Text(n.to_string().into())), n + 1))
        } else {
            futures::future::pending().await
        }
    });
    let mut s = ChatStream::new(info().with_timeouts(t), inner);
    let start = Instant::now();
    for _ in 0..3 {
        assert!(s.next().await.unwrap().is_ok());
    }
    let err = s.next().await.unwrap().unwrap_err();
    assert!(err.to_string().contains("idle"), "{err}");
    // 3 chunks 1.5 s apart never trip a 2 s idle limit; the silence after them does,
    // within a sixteenth of the limit.
    assert_within_a_tick(start.elapsed(), Duration::from_millis(4500 + 2000));
}

#[tokio::test(start_paused = true)]
async fn idle_time_counts_from_the_wait_not_from_the_apps_work() {
    // The app takes 5 s over a chunk; the 2 s idle limit then still gives the
    // server 2 s from when the app asks for the next one. (Pins the behaviour that
    // lets the adapter read the clock once per wait instead of once per chunk.)
    let t = Timeouts::default().idle(Duration::from_secs(2));
    let inner = pending_after(vec![Chunk::Text("a".into()), Chunk::Text("b".into())]);
    let mut s = ChatStream::new(info().with_timeouts(t), inner);
    let start = Instant::now();
    assert!(s.next().await.unwrap().is_ok());
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(s.next().await.unwrap().is_ok());
    let err = s.next().await.unwrap().unwrap_err();
    assert!(err.to_string().contains("idle"), "{err}");
    assert_within_a_tick(start.elapsed(), Duration::from_secs(7));
}

/// `elapsed` is `limit_at`, or at most a sixteenth of the 2 s (or 1 s) idle limit later.
fn assert_within_a_tick(elapsed: Duration, limit_at: Duration) {
    assert!(
        elapsed >= limit_at && elapsed <= limit_at + Duration::from_millis(125),
        "fired at {elapsed:?}, the limit was reached at {limit_at:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_limit_is_not_met_by_a_slow_steady_stream() {
    // A chunk every 1.9 s under a 2 s limit, for longer than many limits: never idle,
    // whatever the phase of the ticks.
    let t = Timeouts::default().idle(Duration::from_secs(2));
    let inner = futures::stream::unfold(0u32, |n| async move {
        tokio::time::sleep(Duration::from_millis(1900)).await;
        (n < 20).then(|| (Ok(Chunk::Text(n.to_string().into())), n + 1))
    })
    .chain(futures::stream::once(async {
        Ok(Chunk::from(Finish::new(FinishReason::Stop)))
    }));
    let items: Vec<_> = ChatStream::new(info().with_timeouts(t), inner)
        .collect()
        .await;
    assert_eq!(items.len(), 21);
    assert!(items.iter().all(|i| i.is_ok()), "{items:?}");
}

#[tokio::test(start_paused = true)]
async fn the_first_chunk_limit_gives_way_to_the_idle_limit() {
    let t = Timeouts::default()
        .first_chunk(Duration::from_secs(10))
        .idle(Duration::from_secs(1));
    let inner = futures::stream::unfold(0u32, |n| async move {
        match n {
            0 => {
                tokio::time::sleep(Duration::from_secs(8)).await;
                Some((Ok(Chunk::Text("late first".into())), 1))
            }
            _ => futures::future::pending().await,
        }
    });
    let mut s = ChatStream::new(info().with_timeouts(t), inner);
    let start = Instant::now();
    assert!(s.next().await.unwrap().is_ok());
    let err = s.next().await.unwrap().unwrap_err();
    assert!(err.to_string().contains("idle"), "{err}");
    assert_within_a_tick(start.elapsed(), Duration::from_secs(9));

    // Without an idle limit, nothing fires after the first chunk.
    let t = Timeouts::default().first_chunk(Duration::from_secs(1));
    let inner = pending_after(vec![Chunk::Text("a".into())]);
    let mut s = ChatStream::new(info().with_timeouts(t), inner);
    assert!(s.next().await.unwrap().is_ok());
    let waited = tokio::time::timeout(Duration::from_secs(30), s.next()).await;
    assert!(waited.is_err(), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_timer_wakes_the_task_that_polled_last() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    #[derive(Default)]
    struct Flag(AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    // The timers are not re-polled while the waker stays the same; a new waker
    // must still be registered.
    let t = Timeouts::default()
        .first_chunk(Duration::from_secs(1))
        .deadline(Duration::from_secs(1));
    let mut s = ChatStream::new(info().with_timeouts(t), pending_after(vec![]));
    let (a, b) = (Arc::new(Flag::default()), Arc::new(Flag::default()));
    for flag in [&a, &a, &b] {
        let waker = std::task::Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut s).poll_next(&mut cx).is_pending());
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(b.0.load(Ordering::SeqCst), "the last waker was not woken");
    let waker = std::task::Waker::from(b.clone());
    let mut cx = Context::from_waker(&waker);
    match Pin::new(&mut s).poll_next(&mut cx) {
        Poll::Ready(Some(Err(e))) => assert_eq!(e.kind(), ErrorKind::Timeout),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn deadline_counts_from_the_call() {
    let t = Timeouts::default().deadline(Duration::from_secs(5));
    let inner = futures::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        Some((Ok(Chunk::Text("x".into())), ()))
    });
    let s = ChatStream::new(info().with_timeouts(t), inner);
    let start = Instant::now();
    let items: Vec<_> = s.collect().await;
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert!(err.to_string().contains("deadline"), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(items.len(), 5);
}

#[test]
fn a_stream_can_be_made_outside_a_runtime() {
    let t = Timeouts::default().idle(Duration::from_secs(1));
    let s = ChatStream::new(info().with_timeouts(t), pending_after(vec![]));
    drop(s);
}

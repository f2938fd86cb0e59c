//! Budgets in one process (issue 29), over loopback: windows never exceeded at the
//! server, streams at once, arrival order, waits that do not count against a request's
//! limits, reservations settled at the real usage, every way a stream can end giving
//! its grant back at once, and the server's rate-limit headers holding the budget.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use theory_llm::budget::{Budget, BudgetProvider, Limits, Metered};
use theory_llm::pricing::Price;
use theory_llm::retry::RetryPolicy;
use theory_llm::routing::FallbackProvider;
use theory_llm::{ChatRequest, Chunk, ErrorKind, LlmStreamProvider, OpenAiProvider};

use crate::support::{Reply, Server, Split};

/// An SSE body of `words` (one event each) and a finish reporting 10 tokens in, 5 out.
fn sse(words: &[&str]) -> Vec<u8> {
    let mut body = String::new();
    for word in words {
        body.push_str(&format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{word}\"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    body.push_str("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}\n\ndata: [DONE]\n\n");
    body.into_bytes()
}

fn openai(server: &Server) -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key("sk-test-Budget3Qz8Wm4Xv7Np")
        .base_url(format!("{}/v1", server.url()))
        .retry_policy(RetryPolicy::none())
        .price("m", Price::from_nanos_per_token(1_000, 2_000))
        .default_model("m")
        .build()
        .unwrap()
}

/// A server that notes when each request arrives (and its prompt), answering `reply`.
async fn noting(reply: Reply) -> (Server, Arc<Mutex<Vec<(Instant, String)>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let noted = arrivals.clone();
    let server = Server::start(move |_, request| {
        let prompt = request.json()["messages"][0]["content"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        noted.lock().unwrap().push((Instant::now(), prompt));
        reply.clone()
    })
    .await;
    (server, arrivals)
}

/// The most arrivals in any span of `span`.
fn most_in_any(arrivals: &[Instant], span: Duration) -> usize {
    let mut sorted = arrivals.to_vec();
    sorted.sort();
    (0..sorted.len())
        .map(|i| {
            sorted[i..]
                .iter()
                .take_while(|t| **t - sorted[i] < span)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn no_span_of_a_period_holds_more_requests_than_the_limit_at_the_server() {
    let (server, arrivals) = noting(Reply::sse(sse(&["hi"]))).await;
    let budget = Budget::new(Limits::new().requests(3, Duration::from_millis(300)));
    let llm = BudgetProvider::new(openai(&server), budget).max_wait(Duration::from_secs(10));
    let started = Instant::now();
    let replies = futures::future::join_all((0..10).map(|_| llm.chat("Hi".into()))).await;
    assert!(replies.iter().all(Result::is_ok), "{replies:?}");
    let times: Vec<Instant> = arrivals.lock().unwrap().iter().map(|(t, _)| *t).collect();
    assert_eq!(times.len(), 10);
    // The budget's clock and the server's differ by the time a request takes to
    // arrive (a new connection each: tens of milliseconds on a busy machine). A
    // window that refills as a bucket would let 4 through in 240 ms here.
    assert!(
        most_in_any(&times, Duration::from_millis(240)) <= 3,
        "{times:?}"
    );
    // And it was not slower than it had to be: 10 requests at 3 per 300 ms.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let waited: Vec<f64> = replies
        .iter()
        .map(|r| r.as_ref().unwrap().usage.waited_ms)
        .collect();
    assert_eq!(
        waited.iter().filter(|w| **w == 0.0).count(),
        3,
        "{waited:?}"
    );
}

#[tokio::test]
async fn streams_at_once_and_arrival_order() {
    // Each reply takes about 150 ms (three pieces, 50 ms apart).
    let reply = Reply::sse(sse(&["a", "b"]))
        .split(Split::Frames)
        .delay(Duration::from_millis(50));
    let (server, arrivals) = noting(reply).await;
    let budget = Budget::new(Limits::new().concurrent(1));
    let llm = BudgetProvider::new(openai(&server), budget.clone());
    let mut streams = Vec::new();
    for n in 0..4 {
        let mut stream = llm.stream_chat(ChatRequest::new(format!("request {n}")));
        // Polled in order: each takes its place in line.
        let _ = futures::poll!(stream.next());
        streams.push(stream);
    }
    let replies = futures::future::join_all(streams.into_iter().map(|s| s.reply())).await;
    assert!(replies.iter().all(Result::is_ok), "{replies:?}");
    let arrivals = arrivals.lock().unwrap().clone();
    let order: Vec<&str> = arrivals.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(order, ["request 0", "request 1", "request 2", "request 3"]);
    for pair in arrivals.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap >= Duration::from_millis(140),
            "one stream at a time: {gap:?}"
        );
    }
    assert_eq!(budget.spent().await.unwrap().streams, 0);
}

#[tokio::test]
async fn waiting_does_not_count_against_the_request_time_limits() {
    let slow = Reply::sse(sse(&["a", "b", "c"]))
        .split(Split::Frames)
        .delay(Duration::from_millis(100));
    let (server, _) = noting(slow).await;
    let provider = OpenAiProvider::builder()
        .api_key("sk-test")
        .base_url(format!("{}/v1", server.url()))
        .first_chunk_timeout(Duration::from_millis(250))
        .deadline(Duration::from_millis(700))
        .build()
        .unwrap();
    let llm = BudgetProvider::new(provider, Budget::new(Limits::new().concurrent(1)))
        .max_wait(Duration::from_secs(5));
    let (first, second) = tokio::join!(llm.chat("one".into()), llm.chat("two".into()));
    let (first, second) = (first.unwrap(), second.unwrap());
    // The second waited longer than its first-chunk limit and close to its deadline,
    // and neither fired: they start when the request is sent.
    assert!(second.usage.waited_ms >= 300.0, "{:?}", second.usage);
    assert_eq!(first.usage.waited_ms, 0.0);
    assert!(second.usage.latency_ms >= second.usage.waited_ms);
}

#[tokio::test]
async fn past_its_wait_limit_a_request_is_rate_limited_with_a_retry_after() {
    let (server, arrivals) = noting(Reply::sse(sse(&["hi"]))).await;
    let budget = Budget::new(Limits::new().requests(1, Duration::from_secs(2)));
    let llm = BudgetProvider::new(openai(&server), budget).max_wait(Duration::from_millis(100));
    llm.chat("one".into()).await.unwrap();
    let started = Instant::now();
    let err = llm.chat("two".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let retry = err.retry_after().expect("the window says when");
    assert!(
        retry > Duration::from_millis(1500) && retry <= Duration::from_secs(2),
        "{retry:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(err.to_string().contains("wait limit of 100 ms"), "{err}");
    assert_eq!(arrivals.lock().unwrap().len(), 1, "never sent");
}

#[tokio::test]
async fn reservations_are_settled_at_the_real_usage() {
    let reply = Reply::sse(sse(&["a", "b"]))
        .split(Split::Frames)
        .delay(Duration::from_millis(30));
    let (server, _) = noting(reply).await;
    let minute = Duration::from_secs(60);
    let budget = Budget::new(
        Limits::new()
            .tokens(10_000, minute)
            .usd_micros(1_000_000, minute),
    );
    let llm = BudgetProvider::new(openai(&server), budget.clone());
    let mut stream = llm.stream_chat(ChatRequest::new("Hello there").max_tokens(500));
    stream.next().await.unwrap().unwrap();
    // While it streams: the prompt's estimate (3 tokens) and max_tokens, priced at
    // 1 and 2 micro-USD a token.
    let spent = budget.spent().await.unwrap();
    assert_eq!(spent.streams, 1);
    assert_eq!(spent.windows[0].1, 503);
    assert_eq!(spent.windows[1].1, 3 + 2 * 500);
    while stream.next().await.is_some() {}
    // At the finish: what the server reported, 10 in and 5 out.
    let spent = budget.spent().await.unwrap();
    assert_eq!(spent.streams, 0);
    assert_eq!(spent.windows[0], (spent.windows[0].0, 15));
    assert_eq!(spent.windows[0].0.what, Metered::Tokens);
    assert_eq!(spent.windows[1].1, 10 + 2 * 5);
}

/// Every way a stream can end gives its stream back at once, settled at what was seen.
#[tokio::test]
async fn no_way_out_of_a_stream_leaks_its_slot() {
    let slow = Reply::sse(sse(&["abcd", "efgh", "ijkl"]))
        .split(Split::Frames)
        .delay(Duration::from_millis(40));
    let cases: Vec<(&str, Reply, u64)> = vec![
        // (how it ends, the server's reply, tokens it counts for: 10 + 5 reported, or
        // the prompt's 1 and 4 characters a token seen)
        ("finished", slow.clone(), 15),
        ("dropped mid-stream", slow.clone().stall_after(2), 1 + 1),
        (
            "failed before any output",
            Reply::json(500, r#"{"error":{"message":"down"}}"#),
            0,
        ),
        ("cut mid-stream", slow.clone().cut_after(2), 1 + 2),
        ("timed out mid-stream", slow.stall_after(2), 1 + 2),
    ];
    for (how, reply, tokens) in cases {
        let (server, _) = noting(reply).await;
        let provider = OpenAiProvider::builder()
            .api_key("sk-test")
            .base_url(format!("{}/v1", server.url()))
            .retry_policy(RetryPolicy::none())
            .idle_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let budget = Budget::new(
            Limits::new()
                .concurrent(1)
                .tokens(100_000, Duration::from_secs(60)),
        );
        let llm = BudgetProvider::new(provider, budget.clone());
        let mut stream = llm.stream_chat(ChatRequest::new("Hi").max_tokens(100));
        match how {
            "dropped mid-stream" => {
                stream.next().await.unwrap().unwrap();
                drop(stream);
            }
            _ => while stream.next().await.is_some() {},
        }
        let spent = budget.spent().await.unwrap();
        assert_eq!(spent.streams, 0, "{how}: the slot came back at once");
        assert_eq!(
            spent.windows[0].1, tokens,
            "{how}: settled at what was seen"
        );
    }
}

#[tokio::test]
async fn a_waiter_that_gives_up_leaves_the_line() {
    let slow = Reply::sse(sse(&["a"]))
        .split(Split::Frames)
        .delay(Duration::from_millis(100));
    let (server, arrivals) = noting(slow).await;
    let budget = Budget::new(Limits::new().concurrent(1));
    let llm = BudgetProvider::new(openai(&server), budget.clone());
    let mut first = llm.stream_chat("first".into());
    let mut gone = llm.stream_chat("gone".into());
    let mut third = llm.stream_chat("third".into());
    let _ = futures::poll!(first.next());
    let _ = futures::poll!(gone.next());
    let _ = futures::poll!(third.next());
    // A stream dropped before its first poll never took a place at all.
    drop(llm.stream_chat("never polled".into()));
    drop(gone);
    while first.next().await.is_some() {}
    while third.next().await.is_some() {}
    let order: Vec<String> = arrivals
        .lock()
        .unwrap()
        .iter()
        .map(|(_, p)| p.clone())
        .collect();
    assert_eq!(order, ["first", "third"]);
    assert_eq!(budget.spent().await.unwrap().streams, 0);
}

#[tokio::test]
async fn a_used_up_quota_in_the_headers_holds_every_request_until_its_reset() {
    let used_up = Reply::sse(sse(&["hi"]))
        .header("x-ratelimit-remaining-requests", "0")
        .header("x-ratelimit-reset-requests", "400ms");
    let (server, arrivals) = noting(used_up).await;
    let budget = Budget::new(Limits::new().concurrent(8));
    let llm = BudgetProvider::new(openai(&server), budget);
    llm.chat("one".into()).await.unwrap();
    let two = llm.chat("two".into()).await.unwrap();
    assert!(two.usage.waited_ms >= 350.0, "{:?}", two.usage);
    let times: Vec<Instant> = arrivals.lock().unwrap().iter().map(|(t, _)| *t).collect();
    assert!(
        times[1] - times[0] >= Duration::from_millis(380),
        "{times:?}"
    );
}

#[tokio::test]
async fn a_429_that_says_when_holds_the_budget_and_a_hold_past_the_wait_fails_at_once() {
    let (server, _) = noting(
        Reply::json(429, r#"{"error":{"message":"slow down"}}"#).header("retry-after", "30"),
    )
    .await;
    let budget = Budget::new(Limits::new().concurrent(8));
    let llm = BudgetProvider::new(openai(&server), budget).max_wait(Duration::from_secs(5));
    let err = llm.chat("one".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    // The hold outlasts the wait limit: no use waiting it out.
    let started = Instant::now();
    let err = llm.chat("two".into()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(
        err.retry_after().unwrap() > Duration::from_secs(28),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_full_entry_of_a_chain_moves_it_on_and_a_chain_can_be_budgeted() {
    let (primary, primary_arrivals) = noting(Reply::sse(sse(&["primary"]))).await;
    let (backup, _) = noting(Reply::sse(sse(&["backup"]))).await;
    let budget = Budget::new(Limits::new().requests(1, Duration::from_secs(60)));
    let limited = BudgetProvider::new(openai(&primary), budget).max_wait(Duration::ZERO);
    let chain = FallbackProvider::builder()
        .entry(limited, None)
        .entry(openai(&backup), None)
        .build()
        .unwrap();
    assert_eq!(chain.chat("one".into()).await.unwrap().text, "primary");
    let second = chain.chat("two".into()).await.unwrap();
    assert_eq!(second.text, "backup");
    assert_eq!(second.attempts[0].kind, ErrorKind::RateLimited);
    assert_eq!(primary_arrivals.lock().unwrap().len(), 1);
    // A budget over the whole chain prices the reply as the entry that answered.
    let minute = Duration::from_secs(60);
    let budget = Budget::new(Limits::new().usd_micros(1_000, minute));
    let over = BudgetProvider::new(chain, budget.clone());
    let reply = over
        .chat(ChatRequest::new("three").max_tokens(10))
        .await
        .unwrap();
    assert_eq!(reply.usage.usd_micros, 20);
    assert_eq!(budget.spent().await.unwrap().windows[0].1, 20);
}

#[tokio::test]
async fn requests_a_budget_cannot_price_or_hold_are_refused_at_once() {
    let (server, arrivals) = noting(Reply::sse(sse(&["hi"]))).await;
    let unpriced = OpenAiProvider::builder()
        .api_key("sk-test")
        .base_url(format!("{}/v1", server.url()))
        .default_model("not-in-any-table")
        .build()
        .unwrap();
    let money = Limits::new().usd_micros(100, Duration::from_secs(60));
    let err = BudgetProvider::new(unpriced, Budget::new(money))
        .chat("hi".into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("no known price"), "{err}");
    let small = Budget::new(Limits::new().tokens(100, Duration::from_secs(60)));
    let err = BudgetProvider::new(openai(&server), small)
        .chat(ChatRequest::new("hi").max_tokens(500))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("needs 501 tokens"), "{err}");
    // A request the provider would refuse takes nothing from the budget.
    let one = Budget::new(Limits::new().requests(1, Duration::from_secs(60)));
    let llm = BudgetProvider::new(openai(&server), one.clone());
    let err = llm
        .chat(ChatRequest::new("hi").temperature(9.0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(one.spent().await.unwrap().windows[0].1, 0);
    assert!(arrivals.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_finish_says_how_long_the_request_waited() {
    let (server, _) = noting(Reply::sse(sse(&["hi"]))).await;
    let budget = Budget::new(Limits::new().concurrent(4));
    budget.hold(Duration::from_millis(200));
    let llm = BudgetProvider::new(openai(&server), budget);
    let mut stream = llm.stream_chat("hi".into());
    let mut waited = None;
    while let Some(item) = stream.next().await {
        if let Chunk::Finish(finish) = item.unwrap() {
            waited = finish.waited;
        }
    }
    assert!(waited.unwrap() >= Duration::from_millis(190), "{waited:?}");
}

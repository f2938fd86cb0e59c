//! Budgets shared through a real Redis server on loopback (issue 29): several processes
//! (this test binary, started again as workers) never exceed one budget in any window,
//! counted at a loopback LLM server; streams at once hold across processes; a killed
//! process's slots come back within the lease; reservations are settled; a cancelled
//! stream gives its slot back at once; Redis going away fails closed, or open.
//!
//! These tests are `#[ignore]`d by default. Run them:
//!
//! ```text
//! set -a; eval "$(scripts/redis.sh start)"; set +a
//! THEORY_LLM_REDIS=1 cargo test --test redis -- --ignored
//! scripts/redis.sh stop
//! ```
//!
//! Run with `--ignored` but without the server, they fail rather than skip.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use theory_llm::budget::{BudgetProvider, Limits, RedisBudget};
use theory_llm::retry::RetryPolicy;
use theory_llm::{ChatRequest, ErrorKind, LlmStreamProvider, OpenAiProvider};
use theory_llm_testkit::loopback::{Reply, Server, Split};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The variable a worker process reads its orders from.
const WORKER: &str = "THEORY_LLM_BUDGET_WORKER";
/// What a worker's own lines start with (the test harness writes on the same stdout).
const SAYS: &str = "worker says: ";

fn env(name: &str) -> String {
    assert_eq!(
        std::env::var("THEORY_LLM_REDIS").as_deref(),
        Ok("1"),
        "Redis tests need THEORY_LLM_REDIS=1 and a server: set -a; eval \"$(scripts/redis.sh start)\"; set +a"
    );
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: set -a; eval \"$(scripts/redis.sh start)\"; set +a")
    })
}

/// A key no other run uses.
fn fresh_key(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("test-{name}-{}-{nanos}", std::process::id())
}

/// An SSE body of `words`, then a finish reporting 10 tokens in, 5 out.
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

fn openai(base: &str) -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key("sk-test-Redis7Qz8Wm4Xv7Np")
        .base_url(base)
        .retry_policy(RetryPolicy::none())
        .default_model("m")
        .build()
        .unwrap()
}

/// A loopback LLM server on a thread of its own (it serves while this test waits on
/// its workers) that notes when each request arrives.
fn noting(reply: Reply) -> (Server, Arc<Mutex<Vec<Instant>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let noted = arrivals.clone();
    let server = Server::start_on_thread(move |_, _| {
        noted.lock().unwrap().push(Instant::now());
        reply.clone()
    });
    (server, arrivals)
}

/// The most of `times` in any span of `span`.
fn most_in_any(times: &[Instant], span: Duration) -> usize {
    let mut sorted = times.to_vec();
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

/// What a worker process is to do.
#[derive(serde::Serialize, serde::Deserialize)]
struct Orders {
    redis: String,
    key: String,
    limits: String,
    base: String,
    requests: usize,
    lease_ms: u64,
    /// Hold the streams open and never finish (to be killed).
    hang: bool,
}

/// Starts this test binary again as a worker with `orders`.
fn spawn_worker(orders: &Orders) -> tokio::process::Child {
    let exe = std::env::current_exe().unwrap();
    tokio::process::Command::new(exe)
        .args([
            "--exact",
            "worker",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WORKER, serde_json::to_string(orders).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// A worker: runs its orders' requests at once through a shared budget, and says
/// `ok N` (the replies it got) or, told to hang, `holding` once its streams are sent.
/// Run as a test (without orders), it does nothing.
#[tokio::test]
#[ignore]
async fn worker() {
    let Ok(orders) = std::env::var(WORKER) else {
        return; // run as a test, not as a worker: nothing to do
    };
    let orders: Orders = serde_json::from_str(&orders).unwrap();
    let budget = RedisBudget::new(&orders.redis, &orders.key, orders.limits.parse().unwrap())
        .lease(Duration::from_millis(orders.lease_ms))
        .connect()
        .await
        .unwrap();
    let llm = BudgetProvider::new(openai(&orders.base), budget).max_wait(Duration::from_secs(30));
    if orders.hang {
        let mut streams = Vec::new();
        for n in 0..orders.requests {
            let mut stream = llm.stream_chat(ChatRequest::new(format!("hang {n}")));
            stream.next().await.unwrap().unwrap();
            streams.push(stream);
        }
        println!("{SAYS}holding");
        std::future::pending::<()>().await;
    }
    let replies =
        futures::future::join_all((0..orders.requests).map(|_| llm.chat("Hi".into()))).await;
    let ok = replies.iter().filter(|r| r.is_ok()).count();
    for r in replies.iter().filter_map(|r| r.as_ref().err()) {
        eprintln!("worker: {r}");
    }
    println!("{SAYS}ok {ok}");
}

/// Waits for what a worker says that starts with `prefix`.
async fn line_of(child: &mut tokio::process::Child, prefix: &str) -> String {
    let stdout = child.stdout.as_mut().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let said = line.split_once(SAYS).map(|(_, said)| said);
            if let Some(said) = said.filter(|s| s.starts_with(prefix)) {
                return said.to_owned();
            }
        }
        panic!("the worker ended without '{prefix}'")
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the worker answered in time")
}

#[tokio::test]
#[ignore]
async fn several_processes_never_exceed_one_budget_in_any_window() {
    let redis = env("REDIS_URL");
    let (server, arrivals) = noting(Reply::sse(sse(&["hi"])));
    let key = fresh_key("window");
    let mut workers: Vec<_> = (0..3)
        .map(|_| {
            spawn_worker(&Orders {
                redis: redis.clone(),
                key: key.clone(),
                limits: "requests=4/s".into(),
                base: format!("{}/v1", server.url()),
                requests: 4,
                lease_ms: 5000,
                hang: false,
            })
        })
        .collect();
    for worker in &mut workers {
        assert_eq!(line_of(worker, "ok").await, "ok 4");
    }
    let times = arrivals.lock().unwrap().clone();
    assert_eq!(times.len(), 12);
    // Slack for the time a request takes from admission (on Redis's clock) to the
    // server: a window that refilled as a bucket would let 5 or more through here.
    assert!(
        most_in_any(&times, Duration::from_millis(900)) <= 4,
        "{times:?}"
    );
    let span = *times.iter().max().unwrap() - *times.iter().min().unwrap();
    assert!(
        span >= Duration::from_millis(1900),
        "12 requests at 4 a second: {span:?}"
    );
}

#[tokio::test]
#[ignore]
async fn streams_at_once_hold_across_processes() {
    let redis = env("REDIS_URL");
    // Each reply takes about 200 ms: four pieces, 50 ms apart.
    let reply = Reply::sse(sse(&["a", "b", "c"]))
        .split(Split::Frames)
        .delay(Duration::from_millis(50));
    let (server, arrivals) = noting(reply);
    let key = fresh_key("streams");
    let mut workers: Vec<_> = (0..3)
        .map(|_| {
            spawn_worker(&Orders {
                redis: redis.clone(),
                key: key.clone(),
                limits: "concurrent=2".into(),
                base: format!("{}/v1", server.url()),
                requests: 3,
                lease_ms: 5000,
                hang: false,
            })
        })
        .collect();
    for worker in &mut workers {
        assert_eq!(line_of(worker, "ok").await, "ok 3");
    }
    let times = arrivals.lock().unwrap().clone();
    assert_eq!(times.len(), 9);
    // A stream is on the server from its arrival for at least 180 ms: no three arrive
    // within that.
    assert!(
        most_in_any(&times, Duration::from_millis(180)) <= 2,
        "{times:?}"
    );
}

#[tokio::test]
#[ignore]
async fn a_killed_process_gives_its_slots_back_within_the_lease() {
    let redis = env("REDIS_URL");
    let (server, _) = noting(
        Reply::sse(sse(&["a", "b"]))
            .split(Split::Frames)
            .stall_after(1),
    );
    let (answering, _) = noting(Reply::sse(sse(&["hi"])));
    let key = fresh_key("killed");
    let lease = Duration::from_millis(1500);
    let mut worker = spawn_worker(&Orders {
        redis: redis.clone(),
        key: key.clone(),
        limits: "concurrent=2".into(),
        base: format!("{}/v1", server.url()),
        requests: 2,
        lease_ms: 1500,
        hang: true,
    });
    line_of(&mut worker, "holding").await;
    let budget = RedisBudget::new(&redis, &key, "concurrent=2".parse().unwrap())
        .lease(lease)
        .connect()
        .await
        .unwrap();
    assert_eq!(
        budget.spent().await.unwrap().streams,
        2,
        "the worker holds both"
    );
    worker.kill().await.unwrap(); // SIGKILL: no Drop runs, nothing is released
    let killed = Instant::now();
    let llm = BudgetProvider::new(openai(&format!("{}/v1", answering.url())), budget)
        .max_wait(Duration::from_secs(10));
    let reply = llm.chat("after".into()).await.unwrap();
    let after = killed.elapsed();
    assert!(after <= lease + Duration::from_millis(700), "{after:?}");
    assert!(
        reply.usage.waited_ms > 0.0,
        "the slots were held until their lease lapsed"
    );
}

#[tokio::test]
#[ignore]
async fn reservations_are_settled_and_a_cancelled_stream_gives_its_slot_back_at_once() {
    let redis = env("REDIS_URL");
    let reply = Reply::sse(sse(&["abcd", "efgh", "ijkl"]))
        .split(Split::Frames)
        .delay(Duration::from_millis(50));
    let (server, _) = noting(reply);
    let minute = Duration::from_secs(60);
    let limits = Limits::new().concurrent(1).tokens(10_000, minute);
    let budget = RedisBudget::new(&redis, fresh_key("settle"), limits)
        .connect()
        .await
        .unwrap();
    let llm = BudgetProvider::new(openai(&format!("{}/v1", server.url())), budget.clone());
    // Finished: reserved 503 (3 for the prompt, 500 for max_tokens), settled at 15.
    let mut stream = llm.stream_chat(ChatRequest::new("Hello there").max_tokens(500));
    stream.next().await.unwrap().unwrap();
    let spent = budget.spent().await.unwrap();
    assert_eq!((spent.streams, spent.windows[0].1), (1, 503));
    while stream.next().await.is_some() {}
    let settled = eventually(&budget, |s| s.streams == 0 && s.windows[0].1 == 15).await;
    assert!(settled < Duration::from_millis(200), "{settled:?}");
    // Cancelled after one chunk: the slot comes back at once (not after the 5 s
    // lease), settled at the prompt and the four characters seen.
    let mut stream = llm.stream_chat(ChatRequest::new("Hello there").max_tokens(500));
    stream.next().await.unwrap().unwrap();
    drop(stream);
    let released = eventually(&budget, |s| s.streams == 0 && s.windows[0].1 == 15 + 3 + 1).await;
    assert!(released < Duration::from_millis(200), "{released:?}");
}

/// Polls `spent` until `done`; how long it took (at most 3 s, then it fails).
async fn eventually(
    budget: &theory_llm::budget::Budget,
    done: impl Fn(&theory_llm::budget::Spent) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let spent = budget.spent().await.unwrap();
        if done(&spent) {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(3), "{spent:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
#[ignore]
async fn waiters_of_several_processes_are_admitted_in_arrival_order() {
    let redis = env("REDIS_URL");
    let order = Arc::new(Mutex::new(Vec::new()));
    let noted = order.clone();
    let server = Server::start_on_thread(move |_, request| {
        let prompt = request.json()["messages"][0]["content"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        noted.lock().unwrap().push(prompt.clone());
        let reply = Reply::sse(sse(&["a", "b"])).split(Split::Frames);
        if prompt == "holder" {
            reply.stall_after(1)
        } else {
            reply
        }
    });
    let key = fresh_key("line");
    // Two connections stand for two processes.
    let one = RedisBudget::new(&redis, &key, Limits::new().concurrent(1))
        .connect()
        .await
        .unwrap();
    let two = RedisBudget::new(&redis, &key, Limits::new().concurrent(1))
        .connect()
        .await
        .unwrap();
    let base = format!("{}/v1", server.url());
    let one = BudgetProvider::new(openai(&base), one);
    let two = BudgetProvider::new(openai(&base), two);
    let mut holder = one.stream_chat("holder".into());
    holder.next().await.unwrap().unwrap();
    let mut second = two.stream_chat("second".into());
    let _ = futures::poll!(second.next());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = one.stream_chat("third".into());
    let _ = futures::poll!(third.next());
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(holder);
    let (a, b) = tokio::join!(second.reply(), third.reply());
    a.unwrap();
    b.unwrap();
    assert_eq!(*order.lock().unwrap(), ["holder", "second", "third"]);
}

#[tokio::test]
#[ignore]
async fn a_hold_is_shared_between_processes() {
    let redis = env("REDIS_URL");
    let used_up = Reply::sse(sse(&["hi"]))
        .header("x-ratelimit-remaining-tokens", "0")
        .header("x-ratelimit-reset-tokens", "600ms");
    let (server, _) = noting(used_up);
    let key = fresh_key("hold");
    let limits = || Limits::new().concurrent(4);
    // Two connections stand for two processes.
    let one = RedisBudget::new(&redis, &key, limits())
        .connect()
        .await
        .unwrap();
    let two = RedisBudget::new(&redis, &key, limits())
        .connect()
        .await
        .unwrap();
    let base = format!("{}/v1", server.url());
    BudgetProvider::new(openai(&base), one)
        .chat("used up".into())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await; // the hold goes out
    let reply = BudgetProvider::new(openai(&base), two)
        .chat("held".into())
        .await
        .unwrap();
    assert!(reply.usage.waited_ms >= 450.0, "{:?}", reply.usage);
}

/// A Redis server of this test's own, to take away mid-run.
struct OwnRedis {
    child: std::process::Child,
    port: u16,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let binary = env("REDIS_SERVER");
        let port = theory_llm_testkit::loopback::closed_port();
        let child = std::process::Command::new(binary)
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        OwnRedis { child, port }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
#[ignore]
async fn redis_going_away_fails_closed_by_default_and_open_when_asked() {
    let redis = OwnRedis::start();
    let (server, arrivals) = noting(Reply::sse(sse(&["hi"])));
    let base = format!("{}/v1", server.url());
    let limits = || Limits::new().concurrent(4);
    let timeout = Duration::from_millis(500);
    let closed = RedisBudget::new(redis.url(), "gone", limits())
        .timeout(timeout)
        .connect()
        .await
        .unwrap();
    let open = RedisBudget::new(redis.url(), "gone", limits())
        .timeout(timeout)
        .fail_open(true)
        .connect()
        .await
        .unwrap();
    let closed = BudgetProvider::new(openai(&base), closed);
    let open = BudgetProvider::new(openai(&base), open);
    closed.chat("before".into()).await.unwrap();
    open.chat("before".into()).await.unwrap();
    drop(redis); // mid-run
    let err = closed.chat("after".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(
        err.to_string().contains("Redis at redis://127.0.0.1"),
        "{err}"
    );
    open.chat("after, open".into()).await.unwrap();
    assert_eq!(
        arrivals.lock().unwrap().len(),
        3,
        "the closed one was never sent"
    );
    // Not reachable from the start: the same two ways.
    let port = theory_llm_testkit::loopback::closed_port();
    let url = format!("redis://:s3cret@127.0.0.1:{port}/0");
    let err = RedisBudget::new(&url, "k", limits())
        .timeout(timeout)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    let message = err.to_string();
    assert!(
        message.contains("Redis at") && !message.contains("s3cret"),
        "{message}"
    );
    let open = RedisBudget::new(&url, "k", limits())
        .timeout(timeout)
        .fail_open(true)
        .connect()
        .await
        .unwrap();
    BudgetProvider::new(openai(&base), open)
        .chat("never reached".into())
        .await
        .unwrap();
}

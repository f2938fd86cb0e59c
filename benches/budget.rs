//! Admission overhead per request (issue 29): the same one-chunk `chat()` on the mock
//! provider bare, under an in-process budget, and under a budget shared through a
//! Redis server on loopback (`REDIS_URL`, from `scripts/redis.sh start`; that group is
//! skipped, and says so, without it). The difference to `bare` is what a budget costs
//! a request: its books, its grant, and for Redis the script's round trip.
//!
//! `cargo bench --bench budget`

use std::time::Duration;

use criterion::{black_box, criterion_main, Criterion};
use theory_llm::budget::{Budget, BudgetProvider, Limits, RedisBudget};
use theory_llm::{LlmStreamProvider, MockProvider};

/// Limits that never make a request wait, so that only the bookkeeping is measured:
/// every kind of limit, each window holding what a day of requests at this rate logs.
fn roomy() -> Limits {
    let day = Duration::from_secs(86_400);
    Limits::new()
        .requests(u64::MAX / 2, day)
        .tokens(u64::MAX / 2, day)
        .concurrent(1_000)
}

fn one_chat(rt: &tokio::runtime::Runtime, llm: &dyn LlmStreamProvider) -> usize {
    rt.block_on(async {
        llm.chat("bench".into())
            .await
            .map(|r| r.text.len())
            .unwrap_or_default()
    })
}

fn admission(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mock = || MockProvider::builder().reply("ok").build();
    let mut group = c.benchmark_group("budget");
    let bare = mock();
    group.bench_function("bare", |b| b.iter(|| black_box(one_chat(&rt, &bare))));
    let local = BudgetProvider::new(mock(), Budget::new(roomy()));
    group.bench_function("in_process", |b| {
        b.iter(|| black_box(one_chat(&rt, &local)))
    });
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            let key = format!("bench-{}", std::process::id());
            let budget = rt
                .block_on(RedisBudget::new(url, key, roomy()).connect())
                .expect("Redis at REDIS_URL");
            let shared = BudgetProvider::new(mock(), budget);
            group.bench_function("redis_loopback", |b| {
                b.iter(|| black_box(one_chat(&rt, &shared)))
            });
        }
        Err(_) => eprintln!(
            "budget/redis_loopback: skipped, REDIS_URL is not set (set -a; eval \"$(scripts/redis.sh start)\"; set +a)"
        ),
    }
    group.finish();
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    admission(&mut c);
}

criterion_main!(benches);

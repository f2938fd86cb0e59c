//! Collector throughput: chunks folded per second, the baseline for `chat()`'s own cost.
//!
//! `cargo bench --bench collector`

use criterion::{black_box, criterion_main, BatchSize, Criterion, Throughput};
use futures::StreamExt;
use theory_llm::kit::StreamInfo;
use theory_llm::reply::Collector;
use theory_llm::{Chunk, Finish, FinishReason, LlmStreamProvider, MockProvider};

const CHUNKS: usize = 10_000;

fn chunks() -> Vec<Chunk> {
    let mut v: Vec<Chunk> = (0..CHUNKS)
        .map(|i| Chunk::Text(format!(" token{}", i % 100).into()))
        .collect();
    v.push(Chunk::from(
        Finish::new(FinishReason::Stop).with_tokens(Some(10), Some(CHUNKS as u64)),
    ));
    v
}

fn collector(c: &mut Criterion) {
    let input = chunks();
    let mut group = c.benchmark_group("collector");
    group.throughput(Throughput::Elements(CHUNKS as u64));
    group.bench_function("push_10k_text_chunks", |b| {
        b.iter(|| {
            let mut col = Collector::new(StreamInfo::new("bench", "m"));
            for chunk in &input {
                col.push(black_box(chunk)).unwrap();
            }
            black_box(col.finish().map(|r| r.text.len()).unwrap_or_default())
        })
    });

    // The whole chat() path on the mock: stream, ChatStream adapter and collector.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let words: Vec<String> = (0..CHUNKS).map(|i| format!(" w{}", i % 100)).collect();
    let llm = MockProvider::builder().chunks(words).build();
    group.bench_function("mock_chat_10k_chunks", |b| {
        b.iter_batched(
            || "bench".into(),
            |req| {
                rt.block_on(async {
                    black_box(
                        llm.chat(req)
                            .await
                            .map(|r| r.text.len())
                            .unwrap_or_default(),
                    )
                })
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("mock_stream_10k_chunks", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut s = llm.stream_chat("bench".into());
                let mut n = 0usize;
                while let Some(item) = s.next().await {
                    n += usize::from(item.is_ok());
                }
                black_box(n)
            })
        })
    });
    group.finish();
}

// criterion_group! generates an undocumented function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::collector);
}
criterion_main!(group::benches);

//! Framing and mapping throughput, fed from memory: the bytes of an OpenAI SSE body and
//! of an Ollama NDJSON body, cut into pieces of 1, 64 and 16,384 bytes and at frame
//! boundaries (one piece per event, as a loopback server sending one HTTP chunk per
//! event delivers them), through the providers' own decoding pipelines into `Chunk`s.
//! The text mixes ASCII, multi-byte UTF-8 and JSON escapes.
//!
//! `cargo bench --bench framing`
//!
//! Besides criterion's report (MB/s), it prints a table with ns per chunk, chunks/s and
//! MB/s for each case, and the framing-only cost (events or lines, not parsed) beside
//! the whole pipeline.

#[path = "support/pipelines.rs"]
mod pipelines;
#[path = "support/report.rs"]
mod report;

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{black_box, Criterion, Throughput};
use pipelines::{self as bs, Stats};
use theory_llm_testkit::bodies::Format;

/// Tokens per body: about 230 KB of SSE, 150 KB of NDJSON.
const TOKENS: usize = 1_000;

#[derive(Clone, Copy)]
enum Cut {
    Bytes(usize),
    Frames,
}

impl Cut {
    fn name(self) -> String {
        match self {
            Cut::Bytes(n) => format!("{n}B"),
            Cut::Frames => "per_event".to_owned(),
        }
    }
}

/// The body cut into static pieces (cloning a static `Bytes` costs nothing, so the
/// bench measures the decoder, not the feeding).
fn pieces(format: Format, cut: Cut) -> (&'static [Bytes], usize) {
    let (body, ends) = format.body(TOKENS);
    let body: &'static [u8] = Box::leak(body.into_boxed_slice());
    let mut out = Vec::new();
    match cut {
        Cut::Bytes(n) => out.extend(body.chunks(n).map(Bytes::from_static)),
        Cut::Frames => {
            let mut start = 0;
            for end in ends {
                out.push(Bytes::from_static(&body[start..end]));
                start = end;
            }
        }
    }
    (Box::leak(out.into_boxed_slice()), body.len())
}

type Run = fn(std::iter::Cloned<std::slice::Iter<'static, Bytes>>) -> Stats;

fn bench_case(c: &mut Criterion, group: &str, format: Format, cut: Cut, name: &str, run: Run) {
    let (pieces, len) = pieces(format, cut);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::BytesDecimal(len as u64));
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200));
    let id = format!("{name}/{}", cut.name());
    g.bench_function(&id, |b| {
        let check = run(pieces.iter().cloned());
        assert!(check.errors == 0, "{id}: the body decodes");
        let chunks = check.chunks as u64;
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(run(black_box(pieces).iter().cloned()));
            }
            let t = start.elapsed();
            let name = format!("{group}/{id}");
            report::record(&name, t, chunks * iters, len as u64 * iters);
            t
        })
    });
    g.finish();
}

fn framing(c: &mut Criterion) {
    let cuts = [
        Cut::Bytes(1),
        Cut::Bytes(64),
        Cut::Bytes(16_384),
        Cut::Frames,
    ];
    for cut in cuts {
        bench_case(c, "decode", Format::Sse, cut, "openai_sse", bs::openai_sse);
        bench_case(
            c,
            "decode",
            Format::Ndjson,
            cut,
            "ollama_ndjson",
            bs::ollama_ndjson,
        );
    }
    for cut in cuts {
        bench_case(
            c,
            "frame_only",
            Format::Sse,
            cut,
            "sse_events",
            bs::sse_frames,
        );
        bench_case(
            c,
            "frame_only",
            Format::Ndjson,
            cut,
            "ndjson_lines",
            bs::ndjson_lines,
        );
    }
    // The same with eventsource-stream's SSE framing, for comparison.
    for cut in cuts {
        let group = "eventsource_stream";
        bench_case(
            c,
            group,
            Format::Sse,
            cut,
            "openai_sse",
            bs::openai_sse_eventsource,
        );
        let name = "sse_events_frame_only";
        bench_case(c, group, Format::Sse, cut, name, bs::sse_frames_eventsource);
    }
}

// criterion_group! generates an undocumented function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::framing);
}

// As criterion_main!, then the table.
fn main() {
    group::benches();
    Criterion::default().configure_from_args().final_summary();
    report::print_table(
        "framing + mapping from memory",
        "wall time; frame_only rows count events/lines",
    );
}

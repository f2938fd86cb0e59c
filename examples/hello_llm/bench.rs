//! Benchmark mode (`--repeat N --concurrency C`): the same request N times per provider
//! and model, and a table (or one JSON object) of what was measured.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use futures::StreamExt;
use theory_llm::{ChatReply, Error, LlmStreamProvider};

use crate::args::{Args, Target};
use crate::inputs::Inputs;
use crate::output::{terminal_safe, write_json};
use crate::Outcome;

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What a benchmark of one provider and model measured.
#[derive(Debug, serde::Serialize)]
pub(crate) struct BenchRow {
    provider: String,
    model: String,
    runs: usize,
    ok: usize,
    ttft_ms: Stats,
    latency_ms: Stats,
    /// Generated tokens per second after the first token (decode speed).
    output_tokens_per_s: Stats,
    tokens_estimated: bool,
    usd_micros_total: u64,
    errors: BTreeMap<&'static str, usize>,
    /// The first error's message per kind, to say why.
    error_examples: BTreeMap<&'static str, String>,
    wall_ms: f64,
}

#[derive(Debug, Default, serde::Serialize)]
struct Stats {
    p50: Option<f64>,
    p95: Option<f64>,
}

impl Stats {
    fn of(mut values: Vec<f64>) -> Stats {
        values.sort_by(f64::total_cmp);
        let round = |v: f64| (v * 1000.0).round() / 1000.0;
        Stats {
            p50: percentile(&values, 50.0).map(round),
            p95: percentile(&values, 95.0).map(round),
        }
    }
}

/// The samples of one provider and model, folded as results come in.
struct Tally {
    row: BenchRow,
    ttft: Vec<f64>,
    latency: Vec<f64>,
    speed: Vec<f64>,
}

impl Tally {
    fn new(provider: &str, model: &str, runs: usize) -> Tally {
        Tally {
            row: BenchRow {
                provider: provider.to_owned(),
                model: model.to_owned(),
                runs,
                ok: 0,
                ttft_ms: Stats::default(),
                latency_ms: Stats::default(),
                output_tokens_per_s: Stats::default(),
                tokens_estimated: false,
                usd_micros_total: 0,
                errors: BTreeMap::new(),
                error_examples: BTreeMap::new(),
                wall_ms: 0.0,
            },
            ttft: Vec::new(),
            latency: Vec::new(),
            speed: Vec::new(),
        }
    }

    fn add(&mut self, result: Result<ChatReply, Error>) {
        let row = &mut self.row;
        match result {
            Ok(reply) => {
                let u = reply.usage;
                row.ok += 1;
                row.tokens_estimated |= u.tokens_estimated;
                // Saturating: a server can report any usage (issue 11: this overflowed).
                row.usd_micros_total = row.usd_micros_total.saturating_add(u.usd_micros);
                row.model = reply.model;
                self.latency.push(u.latency_ms);
                if let Some(t) = u.ttft_ms {
                    self.ttft.push(t);
                    let decode_s = (u.latency_ms - t) / 1000.0;
                    if decode_s > 0.0 && u.tokens_out > 1 {
                        self.speed.push((u.tokens_out - 1) as f64 / decode_s);
                    }
                }
            }
            Err(e) => self.add_error(&e, 1),
        }
    }

    fn add_error(&mut self, e: &Error, count: usize) {
        let row = &mut self.row;
        let n = row.errors.entry(e.kind().as_str()).or_default();
        *n = n.saturating_add(count);
        row.error_examples
            .entry(e.kind().as_str())
            .or_insert_with(|| e.to_string());
    }

    fn finish(mut self, wall_ms: f64) -> BenchRow {
        self.row.ttft_ms = Stats::of(self.ttft);
        self.row.latency_ms = Stats::of(self.latency);
        self.row.output_tokens_per_s = Stats::of(self.speed);
        self.row.wall_ms = (wall_ms * 1000.0).round() / 1000.0;
        self.row
    }
}

async fn bench_target(
    args: &Args,
    target: &Target,
    inputs: &Inputs,
    runs: usize,
    llm: Result<Box<dyn LlmStreamProvider>, Error>,
) -> BenchRow {
    let request = inputs.request(args, target);
    let llm = match llm {
        Ok(llm) => llm,
        Err(e) => {
            // A provider that cannot be built is a row of errors; the others still run.
            let model = request.model.as_deref().unwrap_or("-");
            let mut tally = Tally::new(&target.provider, model, runs);
            tally.add_error(&e, runs);
            return tally.finish(0.0);
        }
    };
    let model = request
        .model
        .clone()
        .unwrap_or_else(|| llm.default_model().to_owned());
    let mut tally = Tally::new(llm.name(), &model, runs);
    let started = Instant::now();
    let mut results = futures::stream::iter(0..runs)
        .map(|_| llm.chat(request.clone()))
        .buffer_unordered(args.concurrency);
    while let Some(result) = results.next().await {
        tally.add(result);
    }
    tally.finish(started.elapsed().as_secs_f64() * 1000.0)
}

/// Runs the benchmark and prints its report.
pub(crate) async fn benchmark(
    args: &Args,
    inputs: &Inputs,
    runs: usize,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    let mut rows = Vec::new();
    for target in &args.targets {
        if !args.json {
            let _ = writeln!(
                err,
                "benchmarking {} ({runs} requests, {} at a time)…",
                terminal_safe(&target.provider),
                args.concurrency
            );
        }
        let llm = crate::provider(args, target);
        rows.push(bench_target(args, target, inputs, runs, llm).await);
    }
    let printed = if args.json {
        let json =
            serde_json::json!({ "runs": runs, "concurrency": args.concurrency, "results": rows });
        write_json(out, &json)
    } else {
        print_table(&rows, out, err)
    };
    if let Err(io) = printed {
        return Outcome::Output(io);
    }
    // Exit 1 when some provider answered no request at all; the report says why.
    match rows.iter().find(|r| r.ok == 0) {
        Some(r) => Outcome::BenchFailed(format!(
            "every request to {} failed",
            terminal_safe(&r.provider)
        )),
        None => Outcome::Done,
    }
}

fn print_table(rows: &[BenchRow], out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<()> {
    let fmt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
    // Columns as wide as their longest name (`openai-responses`, a long model id).
    let width = |name: fn(&BenchRow) -> &str, title: &str, least: usize| {
        rows.iter()
            .map(|r| terminal_safe(name(r)).chars().count())
            .chain([title.len(), least])
            .max()
            .unwrap_or(least)
    };
    let pw = width(|r| &r.provider, "provider", 8);
    let mw = width(|r| &r.model, "model", 24);
    writeln!(
        out,
        "{:<pw$} {:<mw$} {:>6} {:>19} {:>21} {:>14}  errors",
        "provider", "model", "ok", "ttft p50/p95 ms", "latency p50/p95 ms", "out tok/s p50"
    )?;
    for r in rows {
        let errors = if r.errors.is_empty() {
            "-".to_owned()
        } else {
            r.errors
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            out,
            "{:<pw$} {:<mw$} {:>6} {:>19} {:>21} {:>14}  {errors}",
            terminal_safe(&r.provider),
            terminal_safe(&r.model),
            format!("{}/{}", r.ok, r.runs),
            format!("{} / {}", fmt(r.ttft_ms.p50), fmt(r.ttft_ms.p95)),
            format!("{} / {}", fmt(r.latency_ms.p50), fmt(r.latency_ms.p95)),
            fmt(r.output_tokens_per_s.p50),
        )?;
        for (kind, message) in &r.error_examples {
            let _ = writeln!(err, "  {} {kind}: {message}", terminal_safe(&r.provider));
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use theory_llm::{ErrorKind, LlmStreamProvider, MockProvider};

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[tokio::test]
    async fn cost_totals_saturate() {
        // Regression (issue 11): `usd_micros_total` overflowed for `--repeat 3` when a
        // server reported huge usage.
        let reply = MockProvider::new().chat("hi".into()).await.unwrap();
        let mut tally = Tally::new("p", "m", 3);
        for _ in 0..3 {
            let mut r = reply.clone();
            r.usage.usd_micros = u64::MAX / 2 + 1;
            tally.add(Ok(r));
        }
        let row = tally.finish(1.0);
        assert_eq!(row.usd_micros_total, u64::MAX);
        assert_eq!(row.ok, 3);
    }

    #[tokio::test]
    async fn a_provider_that_cannot_be_built_is_a_row_of_errors() {
        let args = Args::default();
        let target = Target {
            provider: "nope".into(),
            model: None,
        };
        let failed = Err(Error::new(ErrorKind::ProviderUnavailable, "not configured"));
        let inputs = Inputs::load(&args).unwrap();
        let row = bench_target(&args, &target, &inputs, 4, failed).await;
        assert_eq!((row.ok, row.runs), (0, 4));
        assert_eq!(row.errors.get("provider_unavailable"), Some(&4));
        let built: Result<Box<dyn LlmStreamProvider>, Error> = Ok(Box::new(MockProvider::new()));
        let row = bench_target(&args, &args.targets[0], &inputs, 2, built).await;
        assert_eq!(row.ok, 2);
    }
}

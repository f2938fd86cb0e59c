//! Benchmark mode (`--repeat N --concurrency C`): the same request N times per provider
//! and model, and a table (or one JSON object) of what was measured; while it runs, a
//! progress display on a terminal (`progress.rs`); after it, if asked, a report
//! (`report.rs`) and one line per request (`samples.rs`).

use std::collections::BTreeMap;
use std::fs::File;
use std::future::Future;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Instant, SystemTime};

use futures::future::{FusedFuture, FutureExt};
use futures::StreamExt;
use theory_llm::{ChatReply, Error, LlmStreamProvider};

use crate::args::{Args, Target};
use crate::inputs::Inputs;
use crate::output::{terminal_safe, write_json};
use crate::progress::{self, Progress};
use crate::report;
use crate::samples::{self, round_ms, Sample};
use crate::Outcome;

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What a benchmark of one provider and model measured (a row of the table, an item of
/// `--json`'s `"results"`: its fields are that contract).
#[derive(Debug, serde::Serialize)]
pub(crate) struct BenchRow {
    pub(crate) provider: String,
    pub(crate) model: String,
    pub(crate) runs: usize,
    pub(crate) ok: usize,
    pub(crate) ttft_ms: Stats,
    pub(crate) latency_ms: Stats,
    /// How long requests waited for the budget (`--budget`; 0 without one).
    pub(crate) waited_ms: Stats,
    /// Generated tokens per second after the first token (decode speed).
    pub(crate) output_tokens_per_s: Stats,
    pub(crate) tokens_estimated: bool,
    pub(crate) usd_micros_total: u64,
    pub(crate) errors: BTreeMap<&'static str, usize>,
    /// The first error's message per kind, to say why.
    pub(crate) error_examples: BTreeMap<&'static str, String>,
    pub(crate) wall_ms: f64,
}

#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct Stats {
    pub(crate) p50: Option<f64>,
    pub(crate) p95: Option<f64>,
}

impl Stats {
    fn of(mut values: Vec<f64>) -> Stats {
        values.sort_by(f64::total_cmp);
        Stats {
            p50: percentile(&values, 50.0).map(round_ms),
            p95: percentile(&values, 95.0).map(round_ms),
        }
    }
}

/// Output tokens per second after the first token (the decode speed), when it can be
/// told: more than one token, and time between the first and the last.
fn decode_speed(ttft_ms: f64, latency_ms: f64, tokens_out: u64) -> Option<f64> {
    let decode_s = (latency_ms - ttft_ms) / 1000.0;
    (decode_s > 0.0 && tokens_out > 1).then(|| (tokens_out - 1) as f64 / decode_s)
}

/// The results of one provider and model, folded as they come in.
struct Tally {
    row: BenchRow,
    ttft: Vec<f64>,
    latency: Vec<f64>,
    waited: Vec<f64>,
    speed: Vec<f64>,
    samples: Vec<Sample>,
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
                waited_ms: Stats::default(),
                output_tokens_per_s: Stats::default(),
                tokens_estimated: false,
                usd_micros_total: 0,
                errors: BTreeMap::new(),
                error_examples: BTreeMap::new(),
                wall_ms: 0.0,
            },
            ttft: Vec::new(),
            latency: Vec::new(),
            waited: Vec::new(),
            speed: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// The result of a request sent `start_ms` after the benchmark started, which took
    /// `took_ms` (by the CLI's clock: what a failed request's sample says).
    fn add(&mut self, start_ms: f64, took_ms: f64, result: Result<ChatReply, Error>) {
        let row = &mut self.row;
        let mut sample = Sample {
            latency_ms: Some(round_ms(took_ms)),
            ..Sample::at(start_ms)
        };
        match result {
            Ok(reply) => {
                let u = reply.usage;
                row.ok += 1;
                row.tokens_estimated |= u.tokens_estimated;
                // Saturating: a server can report any usage (issue 11: this overflowed).
                row.usd_micros_total = row.usd_micros_total.saturating_add(u.usd_micros);
                row.model = reply.model;
                self.latency.push(u.latency_ms);
                self.waited.push(u.waited_ms);
                let speed = u
                    .ttft_ms
                    .and_then(|t| decode_speed(t, u.latency_ms, u.tokens_out));
                if let Some(t) = u.ttft_ms {
                    self.ttft.push(t);
                }
                if let Some(speed) = speed {
                    self.speed.push(speed);
                }
                sample.ttft_ms = u.ttft_ms.map(round_ms);
                sample.latency_ms = Some(round_ms(u.latency_ms));
                sample.waited_ms = Some(round_ms(u.waited_ms));
                sample.output_tokens_per_s = speed.map(round_ms);
                sample.tokens_in = Some(u.tokens_in);
                sample.tokens_out = Some(u.tokens_out);
                sample.tokens_estimated = Some(u.tokens_estimated);
                sample.usd_micros = Some(u.usd_micros);
            }
            Err(e) => {
                self.add_error(&e, 1);
                sample.error = Some(e.kind().as_str());
            }
        }
        self.samples.push(sample);
    }

    /// `count` requests that could not be sent at `start_ms`, for `e`.
    fn add_unsent(&mut self, start_ms: f64, e: &Error, count: usize) {
        self.add_error(e, count);
        let sample = Sample {
            error: Some(e.kind().as_str()),
            ..Sample::at(start_ms)
        };
        self.samples.extend(std::iter::repeat_n(sample, count));
    }

    fn add_error(&mut self, e: &Error, count: usize) {
        let row = &mut self.row;
        let n = row.errors.entry(e.kind().as_str()).or_default();
        *n = n.saturating_add(count);
        row.error_examples
            .entry(e.kind().as_str())
            .or_insert_with(|| e.to_string());
    }

    /// The row, and the samples named as the row is (the model the replies reported).
    fn finish(mut self, wall_ms: f64) -> Measured {
        self.row.ttft_ms = Stats::of(self.ttft);
        self.row.latency_ms = Stats::of(self.latency);
        self.row.waited_ms = Stats::of(self.waited);
        self.row.output_tokens_per_s = Stats::of(self.speed);
        self.row.wall_ms = round_ms(wall_ms);
        for sample in &mut self.samples {
            sample.provider.clone_from(&self.row.provider);
            sample.model.clone_from(&self.row.model);
        }
        Measured {
            row: self.row,
            samples: self.samples,
        }
    }
}

/// What the benchmark of one provider and model measured: its row and each request.
#[derive(Debug)]
pub(crate) struct Measured {
    pub(crate) row: BenchRow,
    pub(crate) samples: Vec<Sample>,
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Where a target's requests are reported as they go: the benchmark's clock (for the
/// samples' start times) and the progress display, where it is the `index`th.
#[derive(Clone, Copy)]
struct Watch<'a> {
    began: Instant,
    progress: &'a Progress,
    index: usize,
}

async fn bench_target(
    args: &Args,
    target: &Target,
    inputs: &Inputs,
    runs: usize,
    llm: Result<Box<dyn LlmStreamProvider>, Error>,
    watch: Watch<'_>,
    mut interrupted: Pin<&mut impl FusedFuture<Output = ()>>,
) -> (Measured, bool) {
    let Watch {
        began,
        progress,
        index,
    } = watch;
    progress.start(index);
    let request = inputs.request(args, target);
    let llm = match llm {
        Ok(llm) => llm,
        Err(e) => {
            // A provider that cannot be built is a row of errors; the others still run.
            let model = request.model.as_deref().unwrap_or("-");
            let mut tally = Tally::new(&target.provider, model, runs);
            tally.add_unsent(ms_since(began), &e, runs);
            progress.all_failed(index, runs);
            progress.finish(index);
            return (tally.finish(0.0), false);
        }
    };
    let model = request
        .model
        .clone()
        .unwrap_or_else(|| llm.default_model().to_owned());
    let mut tally = Tally::new(llm.name(), &model, runs);
    let started = Instant::now();
    let (llm, request) = (llm.as_ref(), &request);
    let mut results = futures::stream::iter(0..runs)
        .map(move |_| async move {
            // Runs when buffer_unordered starts it, as the request is sent.
            let sent = Instant::now();
            progress.sent(index);
            let result = llm.chat(request.clone()).await;
            (sent, ms_since(sent), result)
        })
        .buffer_unordered(args.concurrency);
    let mut stopped = false;
    loop {
        let next = tokio::select! {
            biased;
            () = interrupted.as_mut() => {
                stopped = true;
                None
            }
            next = results.next() => next,
        };
        let Some((sent, took_ms, result)) = next else {
            break;
        };
        progress.ended(index, result.is_err());
        let start_ms = sent.duration_since(began).as_secs_f64() * 1000.0;
        tally.add(start_ms, took_ms, result);
        // Requests that never wait (the mock provider) must still let the runtime
        // look for Ctrl-C now and then.
        tokio::task::consume_budget().await;
    }
    // Dropping the requests still in flight cancels them.
    drop(results);
    progress.finish(index);
    (tally.finish(ms_since(started)), stopped)
}

/// How much of an interrupted benchmark finished: `3 of 20 requests finished`.
fn how_far(measured: &[Measured], runs: usize, targets: usize) -> String {
    let finished: usize = measured.iter().map(|m| m.samples.len()).sum();
    let total = runs.saturating_mul(targets);
    format!("{finished} of {total} requests finished")
}

/// The files `--report` and `--samples` name, created before the benchmark runs, so
/// that a path that cannot be written fails at once rather than after the run.
struct Files {
    report: Option<(PathBuf, BufWriter<File>)>,
    samples: Option<(PathBuf, BufWriter<File>)>,
}

impl Files {
    fn create(args: &Args) -> Result<Files, String> {
        let create = |flag: &str, path: &Option<PathBuf>| match path {
            None => Ok(None),
            Some(path) => File::create(path)
                .map(|f| Some((path.clone(), BufWriter::new(f))))
                .map_err(|e| format!("{flag}: cannot create {}: {e}", path.display())),
        };
        Ok(Files {
            report: create("--report", &args.report)?,
            samples: create("--samples", &args.samples)?,
        })
    }

    /// Writes the samples and the report; the message says which file failed.
    fn write(
        self,
        run: &report::Run,
        measured: &[Measured],
        err: &mut dyn Write,
        quiet: bool,
    ) -> Result<(), String> {
        let failed = |flag: &str, path: &Path, e: std::io::Error| {
            format!("{flag}: cannot write {}: {e}", path.display())
        };
        if let Some((path, mut file)) = self.samples {
            let all = measured.iter().flat_map(|m| &m.samples);
            samples::write(&mut file, all).map_err(|e| failed("--samples", &path, e))?;
            if !quiet {
                let _ = writeln!(err, "samples: {}", terminal_safe(&path.to_string_lossy()));
            }
        }
        if let Some((path, mut file)) = self.report {
            report::write(&mut file, report::Format::of(&path), run, measured)
                .map_err(|e| failed("--report", &path, e))?;
            if !quiet {
                let _ = writeln!(err, "report: {}", terminal_safe(&path.to_string_lossy()));
            }
        }
        Ok(())
    }
}

/// What the providers of a benchmark are wrapped in: the recording (`--record`) and the
/// budgets (`--budget`).
#[derive(Clone, Copy)]
pub(crate) struct Wrap<'a> {
    pub(crate) record: Option<&'a crate::providers::RecordFile>,
    pub(crate) budgets: &'a crate::budget::Budgets,
}

/// Runs the benchmark and prints its report. When `interrupted` resolves (Ctrl-C), the
/// requests in flight are cancelled, no more are sent, and the table and files report
/// the requests that finished.
pub(crate) async fn benchmark(
    args: &Args,
    inputs: &Inputs,
    runs: usize,
    wrap: Wrap<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    interrupted: impl Future<Output = ()>,
) -> Outcome {
    let mut interrupted = std::pin::pin!(interrupted.fuse());
    let files = match Files::create(args) {
        Ok(files) => files,
        Err(why) => return Outcome::BenchFailed(why),
    };
    let mut run = report::Run {
        runs,
        concurrency: args.concurrency,
        prompt_chars: inputs.prompt.chars().count(),
        system_chars: args.system.as_ref().map(|s| s.chars().count()),
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        date: SystemTime::now(),
        interrupted: false,
    };
    // Not under --trace, whose spans go to stderr as they come.
    let progress = Progress::new(&args.targets, runs, progress::drawing() && !args.trace);
    let began = Instant::now();
    let mut measured = Vec::new();
    for (index, target) in args.targets.iter().enumerate() {
        // The display says it; without one (stderr is a file, a pipe), this line does.
        if !args.json && !progress.drawn() {
            let _ = writeln!(
                err,
                "benchmarking {} ({runs} requests, {} at a time)…",
                terminal_safe(&target.provider),
                args.concurrency
            );
        }
        let llm = crate::providers::provider(args, target, wrap.record, wrap.budgets).await;
        let watch = Watch {
            began,
            progress: &progress,
            index,
        };
        let interrupted = interrupted.as_mut();
        let (target_measured, stopped) =
            bench_target(args, target, inputs, runs, llm, watch, interrupted).await;
        measured.push(target_measured);
        if stopped {
            run.interrupted = true;
            break;
        }
    }
    progress.clear();
    let rows: Vec<&BenchRow> = measured.iter().map(|m| &m.row).collect();
    let printed = match (args.json, run.interrupted) {
        // --json's object is for a whole run: an interrupted one reports the error
        // object only (its files have what finished).
        (true, true) => Ok(()),
        (true, false) => {
            let json = serde_json::json!({ "runs": runs, "concurrency": args.concurrency, "results": rows });
            write_json(out, &json)
        }
        (false, _) => print_table(&rows, args.budget.is_some(), out, err),
    };
    if let Err(io) = printed {
        return Outcome::Output(io);
    }
    if let Err(why) = files.write(&run, &measured, err, args.json) {
        return Outcome::BenchFailed(why);
    }
    if run.interrupted {
        return Outcome::BenchInterrupted(how_far(&measured, runs, args.targets.len()));
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

/// The table; with a budget, a column of how long requests waited for it.
fn print_table(
    rows: &[&BenchRow],
    budgeted: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    let fmt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
    // Columns as wide as their longest name (`openai-responses`, a long model id).
    let width = |name: fn(&BenchRow) -> &str, title: &str, least: usize| {
        rows.iter()
            .map(|&r| terminal_safe(name(r)).chars().count())
            .chain([title.len(), least])
            .max()
            .unwrap_or(least)
    };
    let pw = width(|r| &r.provider, "provider", 8);
    let mw = width(|r| &r.model, "model", 24);
    let waited_title = if budgeted { " waited p50/p95 ms" } else { "" };
    writeln!(
        out,
        "{:<pw$} {:<mw$} {:>6} {:>19} {:>21}{waited_title} {:>14}  errors",
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
        let waited = if budgeted {
            let both = format!("{} / {}", fmt(r.waited_ms.p50), fmt(r.waited_ms.p95));
            format!(" {both:>18}")
        } else {
            String::new()
        };
        writeln!(
            out,
            "{:<pw$} {:<mw$} {:>6} {:>19} {:>21}{waited} {:>14}  {errors}",
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

    /// One target's benchmark, never interrupted.
    async fn measure(
        args: &Args,
        target: &Target,
        inputs: &Inputs,
        runs: usize,
        llm: Result<Box<dyn LlmStreamProvider>, Error>,
        watch: Watch<'_>,
    ) -> Measured {
        let never = std::pin::pin!(std::future::pending::<()>().fuse());
        let (measured, stopped) = bench_target(args, target, inputs, runs, llm, watch, never).await;
        assert!(!stopped);
        measured
    }
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use theory_llm::{ChatRequest, ChatStream, ErrorKind, LlmStreamProvider, MockProvider};

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
            tally.add(0.0, 1.0, Ok(r));
        }
        let row = tally.finish(1.0).row;
        assert_eq!(row.usd_micros_total, u64::MAX);
        assert_eq!(row.ok, 3);
    }

    fn watch(progress: &Progress) -> Watch<'_> {
        Watch {
            began: Instant::now(),
            progress,
            index: 0,
        }
    }

    #[tokio::test]
    async fn a_provider_that_cannot_be_built_is_a_row_of_errors() {
        let args = Args::default();
        let target = Target {
            provider: "nope".into(),
            model: None,
        };
        let progress = Progress::new(&args.targets, 4, false);
        let failed = Err(Error::new(ErrorKind::ProviderUnavailable, "not configured"));
        let inputs = Inputs::load(&args).unwrap();
        let m = measure(&args, &target, &inputs, 4, failed, watch(&progress)).await;
        assert_eq!((m.row.ok, m.row.runs), (0, 4));
        assert_eq!(m.row.errors.get("provider_unavailable"), Some(&4));
        // One sample per request counted, none of them sent.
        assert_eq!(m.samples.len(), 4);
        assert!(m.samples.iter().all(|s| s.latency_ms.is_none()
            && s.error == Some("provider_unavailable")
            && s.provider == "nope"));
        let built: Result<Box<dyn LlmStreamProvider>, Error> = Ok(Box::new(MockProvider::new()));
        let m = measure(&args, &args.targets[0], &inputs, 2, built, watch(&progress)).await;
        assert_eq!(m.row.ok, 2);
    }

    /// Every third request fails; the others take 2, 4, 6 or 8 ms per chunk.
    #[derive(Debug, Default)]
    struct Uneven(AtomicUsize);

    impl LlmStreamProvider for Uneven {
        fn name(&self) -> &str {
            "uneven"
        }
        fn default_model(&self) -> &str {
            "u1"
        }
        fn stream_chat(&self, request: ChatRequest) -> ChatStream {
            let n = self.0.fetch_add(1, Ordering::Relaxed);
            let mock = MockProvider::builder()
                .default_model("u1")
                .chunks(["one ", "two ", "three"])
                .delay(Duration::from_millis(2 * (1 + n as u64 % 4)));
            let mock = if n % 3 == 2 {
                mock.fail_after(1, ErrorKind::Timeout, "too slow")
            } else {
                mock
            };
            mock.build().stream_chat(request)
        }
    }

    /// Nearest-rank p50 and p95 of the samples' `value`, over the requests that succeeded.
    fn stats_of<'a>(
        samples: impl IntoIterator<Item = &'a serde_json::Value>,
        value: &str,
    ) -> (serde_json::Value, serde_json::Value) {
        let mut v: Vec<f64> = samples
            .into_iter()
            .filter(|s| s["error"].is_null())
            .filter_map(|s| s[value].as_f64())
            .collect();
        v.sort_by(f64::total_cmp);
        let json = |p| serde_json::json!(percentile(&v, p));
        (json(50.0), json(95.0))
    }

    #[tokio::test]
    async fn samples_are_what_the_row_is_made_of() {
        let args = Args {
            concurrency: 3,
            ..Args::default()
        };
        let progress = Progress::new(&args.targets, 12, false);
        let inputs = Inputs::load(&args).unwrap();
        let llm: Result<Box<dyn LlmStreamProvider>, Error> = Ok(Box::new(Uneven::default()));
        let m = measure(&args, &args.targets[0], &inputs, 12, llm, watch(&progress)).await;
        assert_eq!((m.row.ok, m.row.errors.get("timeout")), (8, Some(&4)));
        assert_eq!(m.samples.len(), 12);
        let json: Vec<serde_json::Value> = m
            .samples
            .iter()
            .map(|s| serde_json::to_value(s).unwrap())
            .collect();
        let row = serde_json::to_value(&m.row).unwrap();
        for (field, sample) in [
            ("ttft_ms", "ttft_ms"),
            ("latency_ms", "latency_ms"),
            ("output_tokens_per_s", "output_tokens_per_s"),
        ] {
            let (p50, p95) = stats_of(&json, sample);
            assert_eq!(
                (&row[field]["p50"], &row[field]["p95"]),
                (&p50, &p95),
                "{field}"
            );
        }
        for s in &m.samples {
            assert_eq!((s.provider.as_str(), s.model.as_str()), ("uneven", "u1"));
            assert!(s.start_ms >= 0.0 && s.latency_ms.unwrap() > 0.0, "{s:?}");
            assert_eq!(s.error.is_some(), s.tokens_out.is_none(), "{s:?}");
        }
        // With 3 in flight, the last requests start after the first ones.
        let last = m.samples.iter().map(|s| s.start_ms).fold(0.0, f64::max);
        assert!(last > 0.0);
    }

    /// A directory of its own under the temporary one, removed when dropped.
    struct TempDir(PathBuf);
    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("hello_llm_{name}_{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn path(&self, file: &str) -> String {
            self.0.join(file).to_string_lossy().into_owned()
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn parsed(v: &[&str]) -> Args {
        match crate::args::parse(v.iter().map(std::ffi::OsString::from)) {
            Ok(crate::args::Parsed::Run(a)) => *a,
            _ => panic!("{v:?} did not parse"),
        }
    }

    async fn run(v: &[&str]) -> (u8, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = crate::run(&parsed(v), &mut out, &mut err, std::future::pending()).await;
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (code, text(out), text(err))
    }

    /// Resolves on its `n`th poll: a Ctrl-C that comes after the benchmark has looked
    /// for one `n - 1` times (once before each finished request it takes in).
    struct CtrlCOnPoll(usize);

    impl std::future::Future for CtrlCOnPoll {
        type Output = ();
        fn poll(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            self.0 = self.0.saturating_sub(1);
            if self.0 == 0 {
                return std::task::Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }

    #[tokio::test]
    async fn ctrl_c_mid_benchmark_still_writes_what_finished() {
        let dir = TempDir::new("interrupted");
        let (samples, report) = (dir.path("s.jsonl"), dir.path("r.html"));
        let args = parsed(&[
            "--provider",
            "mock=a,mock=b",
            "--repeat",
            "10",
            "--samples",
            &samples,
            "--report",
            &report,
        ]);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = crate::run(&args, &mut out, &mut err, CtrlCOnPoll(4)).await;
        let (out, err) = (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        );
        assert_eq!(code, 130, "{err}");
        assert!(err.contains("interrupted (Ctrl-C)"), "{err}");
        let lines = std::fs::read_to_string(&samples).unwrap();
        let finished = lines.lines().count();
        assert!((1..20).contains(&finished), "{finished} samples:\n{lines}");
        let page = std::fs::read_to_string(&report).unwrap();
        assert!(
            page.contains("interrupted"),
            "the report says it is partial"
        );
        // The table has the target that ran, with what finished; the other never started.
        assert!(out.contains(&format!("{finished}/10")), "{out}");
        assert!(!out.contains(" b "), "{out}");
    }

    #[tokio::test]
    async fn the_samples_file_matches_the_json_results() {
        let dir = TempDir::new("samples");
        let path = dir.path("s.jsonl");
        let (code, out, err) = run(&[
            "--provider",
            "mock=a,mock=b",
            "--repeat",
            "7",
            "--concurrency",
            "2",
            "--json",
            "--samples",
            &path,
        ])
        .await;
        assert_eq!(code, 0, "{err}");
        assert_eq!(err, "", "--json keeps stderr quiet");
        let results: serde_json::Value = serde_json::from_str(&out).unwrap();
        // --json's object is unchanged by the new flags.
        let mut keys: Vec<&String> = results.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["concurrency", "results", "runs"]);
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 14);
        for row in results["results"].as_array().unwrap() {
            let mine: Vec<&serde_json::Value> = lines
                .iter()
                .filter(|s| s["provider"] == row["provider"] && s["model"] == row["model"])
                .collect();
            assert_eq!(mine.len(), 7, "{row}");
            for field in ["ttft_ms", "latency_ms", "output_tokens_per_s"] {
                let (p50, p95) = stats_of(mine.iter().copied(), field);
                assert_eq!((&row[field]["p50"], &row[field]["p95"]), (&p50, &p95));
            }
            for s in mine {
                for key in ["start_ms", "tokens_in", "tokens_out", "usd_micros"] {
                    assert!(s[key].is_number(), "{key}: {s}");
                }
            }
        }
    }

    /// What makes a file depend on anything outside it: nothing of this may appear.
    fn assert_self_contained(text: &str) {
        let lower = text.to_ascii_lowercase();
        for outside in [
            "src=", "href=", "url(", "@import", "<script", "<link", "<iframe",
        ] {
            assert!(!lower.contains(outside), "{outside} in the report");
        }
        let http = lower.matches("http").count();
        let xmlns = lower
            .matches("xmlns=\"http://www.w3.org/2000/svg\"")
            .count();
        assert_eq!(http, xmlns, "only the SVG namespace names a URL");
    }

    #[tokio::test]
    async fn the_report_shows_each_series_on_labelled_axes_and_needs_nothing_else() {
        let dir = TempDir::new("report");
        let (html, svg) = (dir.path("r.html"), dir.path("r.svg"));
        // A model name that is markup must stay text.
        let providers = "mock=smollm2,mock=<b>&\"x\",nope";
        for path in [&html, &svg] {
            let (code, out, err) = run(&[
                "--provider",
                providers,
                "--repeat",
                "5",
                "--concurrency",
                "2",
                "--max-tokens",
                "64",
                "--report",
                path,
            ])
            .await;
            // `nope` answered nothing: exit 1, with the report written all the same.
            assert_eq!(code, 1, "{err}");
            assert!(out.contains("smollm2"), "{out}");
            assert!(err.contains(&format!("report: {path}")), "{err}");
        }
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        let picture = std::fs::read_to_string(&svg).unwrap();
        assert!(picture.starts_with("<?xml") && picture.contains("<svg xmlns="));
        for text in [&page, &picture] {
            assert_self_contained(text);
            // Three series, each drawn in the three charts (nope has no points: none).
            assert_eq!(text.matches("<path class=\"series\"").count(), 6);
            for name in [
                "mock · smollm2",
                "mock · &lt;b&gt;&amp;&quot;x&quot;",
                "nope · -",
            ] {
                assert!(text.contains(name), "{name}");
            }
            assert!(!text.contains("<b>&"), "unescaped markup");
            // An axis is linear or logarithmic depending on how the timings spread
            // ("(ms)" or "(ms, log scale)"): the mock's spread with the machine's load.
            for label in [
                "time to first token (ms",
                "latency to the last token (ms",
                "output tokens per second",
                "share of requests ≤ x",
            ] {
                assert!(text.contains(label), "{label}");
            }
            assert!(text.contains("5 requests per provider and model, 2 at a time"));
            assert!(text.contains("max tokens 64"));
            assert!(text.contains(&format!("theory-llm {}", env!("CARGO_PKG_VERSION"))));
            assert!(text.contains("GMT"), "the date");
            assert!(text.contains("errors: provider_unavailable 5"));
        }
        // The page also has the numbers and why requests failed.
        assert!(page.contains("<h2>Errors</h2>") && page.contains("provider_unavailable"));
        assert!(page.contains("unknown provider"), "the first message");
        // An XML parser would accept the picture: every tag closed, no stray `&`.
        assert_eq!(
            picture.matches("<svg").count(),
            picture.matches("</svg>").count()
        );
        assert_eq!(
            picture.matches("<text").count(),
            picture.matches("</text>").count()
        );
    }

    #[tokio::test]
    async fn without_a_terminal_stderr_holds_only_the_summary() {
        let dir = TempDir::new("quiet");
        let (report, samples) = (dir.path("r.html"), dir.path("s.jsonl"));
        let (code, out, err) = run(&[
            "--provider",
            "mock,nope",
            "--repeat",
            "4",
            "--concurrency",
            "2",
            "--report",
            &report,
            "--samples",
            &samples,
        ])
        .await;
        assert_eq!(code, 1);
        assert!(out.starts_with("provider "), "the table: {out}");
        // No progress display: no carriage returns, no escape codes, no partial lines;
        // only the lines said once each, in order.
        assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 6, "{err}");
        assert_eq!(lines[0], "benchmarking mock (4 requests, 2 at a time)…");
        assert_eq!(lines[1], "benchmarking nope (4 requests, 2 at a time)…");
        assert!(
            lines[2].starts_with("  nope provider_unavailable: "),
            "{err}"
        );
        assert_eq!(lines[3], format!("samples: {samples}"));
        assert_eq!(lines[4], format!("report: {report}"));
        assert_eq!(lines[5], "error: every request to nope failed");
    }

    #[tokio::test]
    async fn a_report_that_cannot_be_written_fails_before_the_run() {
        let (code, out, err) =
            run(&["--repeat", "2", "--report", "/nonexistent/hello_llm/r.html"]).await;
        assert_eq!(code, 1);
        assert!(out.is_empty(), "nothing ran: {out}");
        assert!(
            err.starts_with("error: --report: cannot create /nonexistent/hello_llm/r.html"),
            "{err}"
        );
    }
}

//! What the benches print besides criterion's own report: a table of per-chunk costs
//! and the ratios to the bytes-only baseline, from the samples of this run.

#![allow(dead_code, unreachable_pub)] // each bench uses a different part

use std::sync::Mutex;
use std::time::Duration;

struct Row {
    name: String,
    nanos: u128,
    chunks: u64,
    bytes: u64,
}

static ROWS: Mutex<Vec<Row>> = Mutex::new(Vec::new());

/// Adds `time` spent on `chunks` chunks (and `bytes` bytes) to the row `name`.
pub fn record(name: &str, time: Duration, chunks: u64, bytes: u64) {
    let mut rows = ROWS.lock().unwrap_or_else(|e| e.into_inner());
    match rows.iter_mut().find(|r| r.name == name) {
        Some(r) => {
            r.nanos += time.as_nanos();
            r.chunks += chunks;
            r.bytes += bytes;
        }
        None => rows.push(Row {
            name: name.to_owned(),
            nanos: time.as_nanos(),
            chunks,
            bytes,
        }),
    }
}

/// Nanoseconds per chunk of row `name`, if it ran.
pub fn ns_per_chunk(name: &str) -> Option<f64> {
    let rows = ROWS.lock().unwrap_or_else(|e| e.into_inner());
    rows.iter()
        .find(|r| r.name == name && r.chunks > 0)
        .map(|r| r.nanos as f64 / r.chunks as f64)
}

/// Prints every row: ns per chunk, chunks per second, MB per second.
pub fn print_table(title: &str, what: &str) {
    let rows = ROWS.lock().unwrap_or_else(|e| e.into_inner());
    if rows.is_empty() {
        return;
    }
    println!("\n{title} ({what}, mean over every sample of this run)");
    println!(
        "{:<48} {:>10} {:>10} {:>9}",
        "bench", "ns/chunk", "Mchunks/s", "MB/s"
    );
    for r in rows.iter() {
        let secs = r.nanos as f64 / 1e9;
        let mb_s = if r.bytes == 0 {
            "-".to_owned()
        } else {
            format!("{:.1}", r.bytes as f64 / secs / 1e6)
        };
        println!(
            "{:<48} {:>10.1} {:>10.2} {:>9}",
            r.name,
            r.nanos as f64 / r.chunks.max(1) as f64,
            r.chunks as f64 / secs / 1e6,
            mb_s,
        );
    }
}

/// Prints `name`'s cost per chunk as a multiple of `baseline`'s, against a target.
pub fn print_ratio(name: &str, baseline: &str, target: Option<f64>) {
    if let (Some(a), Some(b)) = (ns_per_chunk(name), ns_per_chunk(baseline)) {
        let ratio = a / b;
        let verdict = match target {
            Some(t) if ratio <= t => format!("(target <= {t}x: met)"),
            Some(t) => format!("(target <= {t}x: NOT met)"),
            None => String::new(),
        };
        println!(
            "{name:<28} {a:>8.0} ns/chunk = {ratio:>5.2}x {baseline} ({b:.0} ns/chunk) {verdict}"
        );
    }
}

/// CPU time this thread has used (user and system), from `/proc/thread-self/schedstat`
/// (nanosecond resolution); `None` where that file does not exist.
pub fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

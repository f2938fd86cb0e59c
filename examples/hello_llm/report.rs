//! `--report FILE`: the benchmark as a page that needs nothing else to open (HTML with
//! the charts inline as SVG), or as the charts alone (a `.svg` file name). Per provider
//! and model, one colour each: the distributions of time to first token, of latency and
//! of output speed, each an ECDF (the share of requests at or below a value) on axes
//! the series share; the table's numbers, errors by kind with an example, and the run's
//! parameters.
//!
//! The SVG is written here rather than by a plotting crate: a few step lines, axes and
//! labels are short to write, add no dependency, and keep every string in the file under
//! one escaping function (names come from the command line, messages from servers).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

use crate::bench::{BenchRow, Measured};
use crate::output::terminal_safe;
use crate::samples::Sample;

/// The run's parameters, as the report states them.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) runs: usize,
    pub(crate) concurrency: usize,
    pub(crate) prompt_chars: usize,
    pub(crate) system_chars: Option<usize>,
    pub(crate) max_tokens: Option<u32>,
    pub(crate) temperature: Option<f32>,
    pub(crate) date: SystemTime,
    /// Ctrl-C stopped the run: only the requests that finished are in it.
    pub(crate) interrupted: bool,
}

/// What the file holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Format {
    /// A page: the parameters, the charts, the numbers and the errors.
    Html,
    /// The charts alone, with the parameters and a legend (what the README shows).
    Svg,
}

impl Format {
    /// SVG for a `.svg` file, else HTML.
    pub(crate) fn of(path: &Path) -> Format {
        match path.extension() {
            Some(e) if e.eq_ignore_ascii_case("svg") => Format::Svg,
            _ => Format::Html,
        }
    }
}

/// Writes the report.
pub(crate) fn write(
    out: &mut dyn Write,
    format: Format,
    run: &Run,
    measured: &[Measured],
) -> io::Result<()> {
    let text = match format {
        Format::Html => html(run, measured),
        Format::Svg => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            svg(run, measured, true)
        ),
    };
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// `text` safe inside XML or HTML, as text or as an attribute's value: markup
/// characters as entities, control characters as `\u{1b}` (XML cannot hold most of
/// them even as entities), and the two non-characters XML forbids replaced.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in terminal_safe(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Colour-blind-safe (Okabe and Ito), distinct on white; series past these repeat
/// them dashed.
const COLOURS: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];

fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

fn dashes(i: usize) -> &'static str {
    match i / COLOURS.len() {
        0 => "",
        1 => " stroke-dasharray=\"6 3\"",
        _ => " stroke-dasharray=\"2 2\"",
    }
}

/// `openai · smollm2`
fn series_name(row: &BenchRow) -> String {
    format!("{} · {}", row.provider, row.model)
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{v:.1}"))
}

fn errors_text(row: &BenchRow) -> String {
    if row.errors.is_empty() {
        return "no errors".to_owned();
    }
    let kinds: Vec<String> = row.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!("errors: {}", kinds.join(", "))
}

/// `24 requests per provider and model, 4 at a time · prompt 5 characters · …`
fn parameters_line(run: &Run) -> String {
    let mut line = format!(
        "{} requests per provider and model, {} at a time · prompt {} characters",
        run.runs, run.concurrency, run.prompt_chars
    );
    if let Some(n) = run.system_chars {
        let _ = write!(line, " · system prompt {n} characters");
    }
    match run.max_tokens {
        Some(n) => {
            let _ = write!(line, " · max tokens {n}");
        }
        None => line.push_str(" · max tokens: the server's default"),
    }
    if let Some(t) = run.temperature {
        let _ = write!(line, " · temperature {t}");
    }
    if run.interrupted {
        line.push_str(" · interrupted (Ctrl-C): only the requests that finished");
    }
    line
}

fn title_line(run: &Run) -> String {
    format!(
        "hello_llm benchmark · theory-llm {} · {}",
        env!("CARGO_PKG_VERSION"),
        httpdate::fmt_http_date(run.date)
    )
}

/// One chart: which value of the samples, and how it is labelled.
struct Metric {
    title: &'static str,
    axis: &'static str,
    value: fn(&Sample) -> Option<f64>,
}

/// Only requests that succeeded, as in the table.
fn ok_value(s: &Sample, v: Option<f64>) -> Option<f64> {
    v.filter(|v| s.error.is_none() && v.is_finite())
}

const METRICS: [Metric; 3] = [
    Metric {
        title: "Time to first token",
        axis: "time to first token (ms)",
        value: |s| ok_value(s, s.ttft_ms),
    },
    Metric {
        title: "Latency",
        axis: "latency to the last token (ms)",
        value: |s| ok_value(s, s.latency_ms),
    },
    Metric {
        title: "Output speed",
        axis: "output tokens per second (after the first)",
        value: |s| ok_value(s, s.output_tokens_per_s),
    },
];

const Y_AXIS: &str = "share of requests ≤ x";

/// A step of 1, 2 or 5 times a power of ten that cuts `0..max` into about five, and
/// the axis's end: the first multiple of it at or past `max`.
fn nice_axis(max: f64) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = match raw / magnitude {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    } * magnitude;
    (step, (max / step).ceil() * step)
}

/// A tick's label: as many decimals as the step needs; thousands as `k` from 10,000.
fn tick_label(v: f64, step: f64) -> String {
    if v >= 10_000.0 && v % 1000.0 == 0.0 {
        return format!("{}k", v / 1000.0);
    }
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{v:.decimals$}")
}

/// Values spread wider than this (largest over smallest) get a logarithmic axis:
/// latencies have long tails, and on a linear one a single slow request would squash
/// every other into the first few pixels.
const LOG_ABOVE: f64 = 20.0;

/// A panel's x axis, shared by its series.
#[derive(Debug, PartialEq)]
enum Axis {
    /// From 0 to `end`, a tick every `step`.
    Linear { step: f64, end: f64 },
    /// From 10^`lo` to 10^`hi`, whole decades.
    Log { lo: i32, hi: i32 },
}

impl Axis {
    /// The axis for `values` (finite; the ones that are not are left out before).
    fn of(values: &[f64]) -> Axis {
        let max = values.iter().copied().fold(0.0, f64::max);
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        if min > 0.0 && max / min > LOG_ABOVE {
            Axis::Log {
                lo: min.log10().floor() as i32,
                hi: max.log10().ceil() as i32,
            }
        } else {
            let (step, end) = nice_axis(max);
            Axis::Linear { step, end }
        }
    }

    /// Where `v` falls, from 0 (the left end) to 1 (the right).
    fn position(&self, v: f64) -> f64 {
        match *self {
            Axis::Linear { end, .. } => v / end,
            Axis::Log { lo, hi } => {
                (v.max(f64::MIN_POSITIVE).log10() - f64::from(lo)) / f64::from(hi - lo)
            }
        }
    }

    /// The ticks, labelled or not (a log axis's 2 to 9 within each decade are not,
    /// unless it spans two decades or less, where 2 and 5 are).
    fn ticks(&self) -> Vec<(f64, Option<String>)> {
        match *self {
            Axis::Linear { step, end } => (0..=(end / step).round() as usize)
                .map(|t| step * t as f64)
                .map(|v| (v, Some(tick_label(v, step))))
                .collect(),
            Axis::Log { lo, hi } => {
                let few = hi - lo <= 2;
                let mut ticks = Vec::new();
                for decade in lo..=hi {
                    let unit = 10f64.powi(decade);
                    let label = |v: f64| tick_label(v, unit.min(1.0));
                    ticks.push((unit, Some(label(unit))));
                    if decade == hi {
                        break;
                    }
                    for m in 2..10 {
                        let v = unit * f64::from(m);
                        let labelled = few && (m == 2 || m == 5);
                        ticks.push((v, labelled.then(|| label(v))));
                    }
                }
                ticks
            }
        }
    }

    /// `latency (ms)` → `latency (ms, log scale)`
    fn label(&self, axis: &str) -> String {
        match (self, axis.strip_suffix(')')) {
            (Axis::Log { .. }, Some(open)) => format!("{open}, log scale)"),
            (Axis::Log { .. }, None) => format!("{axis} (log scale)"),
            (Axis::Linear { .. }, _) => axis.to_owned(),
        }
    }
}

const WIDTH: f64 = 1000.0;
const MARGIN: f64 = 20.0;
const LEGEND_ROW: f64 = 20.0;
const PANEL_WIDTH: f64 = (WIDTH - 2.0 * MARGIN) / 3.0;
/// Inside a panel: room for the title above, the y labels left, p50 and p95 right, the
/// x labels below.
const PLOT_LEFT: f64 = 58.0;
const PLOT_RIGHT: f64 = 26.0;
const PLOT_TOP: f64 = 28.0;
const PLOT_HEIGHT: f64 = 200.0;
const PANEL_HEIGHT: f64 = PLOT_TOP + PLOT_HEIGHT + 48.0;

/// The charts: a legend and one panel per metric. With `standalone`, also the title
/// and the parameters, and the `xmlns` a file of its own needs (inline in a page, which
/// says them, it needs none of these).
fn svg(run: &Run, measured: &[Measured], standalone: bool) -> String {
    let legend_top = if standalone { 72.0 } else { 16.0 };
    let panels_top = legend_top + LEGEND_ROW * measured.len() as f64 + 12.0;
    let height = panels_top + PANEL_HEIGHT + MARGIN;
    let mut s = String::new();
    let xmlns = if standalone {
        " xmlns=\"http://www.w3.org/2000/svg\""
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "<svg{xmlns} width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
         font-family=\"sans-serif\" font-size=\"12\" role=\"img\">"
    );
    let _ = writeln!(
        s,
        "<title>{}</title>\n<rect width=\"{WIDTH}\" height=\"{height}\" fill=\"#fff\"/>",
        esc(&title_line(run))
    );
    if standalone {
        let _ = writeln!(
            s,
            "<text x=\"{MARGIN}\" y=\"30\" font-size=\"18\" font-weight=\"bold\">{}</text>\n\
             <text x=\"{MARGIN}\" y=\"52\" fill=\"#444\">{}</text>",
            esc(&title_line(run)),
            esc(&parameters_line(run))
        );
    }
    for (i, m) in measured.iter().enumerate() {
        let y = legend_top + LEGEND_ROW * i as f64;
        let r = &m.row;
        // One plain text: renderers place a tspan after a bold one differently.
        let line = format!(
            "{} — {}/{} ok · ttft p50 {} ms · latency p50 {} ms · {} tokens/s · {}",
            series_name(r),
            r.ok,
            r.runs,
            ms(r.ttft_ms.p50),
            ms(r.latency_ms.p50),
            ms(r.output_tokens_per_s.p50),
            errors_text(r)
        );
        let _ = writeln!(
            s,
            "<line x1=\"{MARGIN}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"3\"{}/>\
             <text x=\"{:.1}\" y=\"{y:.1}\">{}</text>",
            y - 4.0,
            MARGIN + 24.0,
            y - 4.0,
            colour(i),
            dashes(i),
            MARGIN + 32.0,
            esc(&line)
        );
    }
    for (p, metric) in METRICS.iter().enumerate() {
        panel(
            &mut s,
            MARGIN + PANEL_WIDTH * p as f64,
            panels_top,
            metric,
            measured,
        );
    }
    s.push_str("</svg>\n");
    s
}

/// One metric's panel at (`left`, `top`): every series' ECDF on the same axes.
fn panel(s: &mut String, left: f64, top: f64, metric: &Metric, measured: &[Measured]) {
    let series: Vec<Vec<f64>> = measured
        .iter()
        .map(|m| {
            let mut v: Vec<f64> = m.samples.iter().filter_map(metric.value).collect();
            v.sort_by(f64::total_cmp);
            v
        })
        .collect();
    let all: Vec<f64> = series.iter().flatten().copied().collect();
    let axis = Axis::of(&all);
    let (x0, y0) = (left + PLOT_LEFT, top + PLOT_TOP);
    let w = PANEL_WIDTH - PLOT_LEFT - PLOT_RIGHT;
    let x = |v: f64| x0 + axis.position(v) * w;
    let y = |share: f64| y0 + (1.0 - share) * PLOT_HEIGHT;
    let _ = writeln!(
        s,
        "<g class=\"panel\"><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        x0,
        top + 16.0,
        esc(metric.title)
    );
    // The grid and the y axis: 0 to 100 %, with p50 and p95 marked to read them off.
    for share in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = writeln!(
            s,
            "<line x1=\"{x0:.1}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#444\">{:.0} %</text>",
            x0 + w,
            x0 - 6.0,
            y(share) + 4.0,
            share * 100.0,
            yy = y(share)
        );
    }
    for (share, name) in [(0.5, "p50"), (0.95, "p95")] {
        let _ = writeln!(
            s,
            "<line x1=\"{x0:.1}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#777\">{name}</text>",
            x0 + w,
            x0 + w + 3.0,
            y(share) + 3.0,
            yy = y(share)
        );
    }
    // The x axis: a tick mark for each tick, a grid line and a value for labelled ones.
    for (v, label) in axis.ticks() {
        let xx = x(v);
        let Some(label) = label else {
            let _ = writeln!(
                s,
                "<line x1=\"{xx:.1}\" y1=\"{:.1}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#bbb\"/>",
                y(0.0),
                y(0.0) + 3.0,
            );
            continue;
        };
        let _ = writeln!(
            s,
            "<line x1=\"{xx:.1}\" y1=\"{:.1}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#f0f0f0\"/>\
             <line x1=\"{xx:.1}\" y1=\"{:.1}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>\
             <text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444\">{}</text>",
            y0,
            y(0.0),
            y(0.0),
            y(0.0) + 4.0,
            y(0.0) + 17.0,
            esc(&label),
        );
    }
    let _ = writeln!(
        s,
        "<rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{w:.1}\" height=\"{PLOT_HEIGHT}\" fill=\"none\" stroke=\"#999\"/>\
         <text class=\"axis-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text class=\"axis-label\" transform=\"translate({:.1} {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        x0 + w / 2.0,
        y(0.0) + 36.0,
        esc(&axis.label(metric.axis)),
        left + 14.0,
        y0 + PLOT_HEIGHT / 2.0,
        esc(Y_AXIS)
    );
    if series.iter().all(Vec::is_empty) {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#777\">no data</text>",
            x0 + w / 2.0,
            y(0.5)
        );
    }
    // The ECDFs: up a step of 1/n at each value.
    for (i, values) in series.iter().enumerate() {
        let Some(first) = values.first() else {
            continue;
        };
        let n = values.len() as f64;
        let mut d = format!("M{:.1},{:.1}", x(*first), y(0.0));
        for (k, v) in values.iter().enumerate() {
            let _ = write!(d, "H{:.1}V{:.1}", x(*v), y((k + 1) as f64 / n));
        }
        let _ = writeln!(
            s,
            "<path class=\"series\" d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}><title>{}</title></path>",
            colour(i),
            dashes(i),
            esc(&series_name(&measured[i].row))
        );
    }
    s.push_str("</g>\n");
}

/// The median of the values, for the table's token counts.
fn median(mut values: Vec<u64>) -> Option<u64> {
    values.sort_unstable();
    let rank = values.len().div_ceil(2);
    rank.checked_sub(1).map(|i| values[i])
}

/// Long server messages are cut in the page (the samples keep kinds, stderr the rest).
fn shorten(message: &str, limit: usize) -> String {
    match message.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message.to_owned(),
    }
}

/// The page: inline styles and SVG only, nothing fetched.
fn html(run: &Run, measured: &[Measured]) -> String {
    let mut h = String::new();
    let title = title_line(run);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; }}\n\
         th, td {{ padding: .3em .7em; border-bottom: 1px solid #ddd; text-align: right; }}\n\
         th:first-child, td:first-child, .text {{ text-align: left; }}\n\
         .swatch {{ display: inline-block; width: 1.5em; height: .3em; vertical-align: middle; margin-right: .4em; }}\n\
         svg {{ max-width: 100%; height: auto; }}\n\
         </style>\n</head>\n<body>\n<h1>{}</h1>\n<p>{}</p>\n",
        esc(&title),
        esc(&title),
        esc(&parameters_line(run))
    );
    h.push_str("<figure>\n");
    h.push_str(&svg(run, measured, false));
    h.push_str(
        "<figcaption>Each line is one provider and model: the share of its successful \
         requests at or below a value. Further left is faster (for output speed, further \
         right).</figcaption>\n</figure>\n",
    );
    h.push_str(
        "<h2>Results</h2>\n<table>\n<tr><th>provider · model</th><th>ok</th>\
         <th>ttft p50 / p95 ms</th><th>latency p50 / p95 ms</th><th>out tok/s p50</th>\
         <th>tokens in p50</th><th>tokens out p50</th><th>cost (USD)</th>\
         <th class=\"text\">errors</th></tr>\n",
    );
    for (i, m) in measured.iter().enumerate() {
        let r = &m.row;
        let ok = m.samples.iter().filter(|s| s.error.is_none());
        let tokens_in = median(ok.clone().filter_map(|s| s.tokens_in).collect());
        let tokens_out = median(ok.filter_map(|s| s.tokens_out).collect());
        let count = |n: Option<u64>| n.map_or("-".to_owned(), |n| n.to_string());
        let estimated = if r.tokens_estimated {
            " (estimated)"
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<tr><td><span class=\"swatch\" style=\"background: {}\"></span>{}</td><td>{}/{}</td>\
             <td>{} / {}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}{estimated}</td>\
             <td>{:.6}</td><td class=\"text\">{}</td></tr>",
            colour(i),
            esc(&series_name(r)),
            r.ok,
            r.runs,
            ms(r.ttft_ms.p50),
            ms(r.ttft_ms.p95),
            ms(r.latency_ms.p50),
            ms(r.latency_ms.p95),
            ms(r.output_tokens_per_s.p50),
            count(tokens_in),
            count(tokens_out),
            r.usd_micros_total as f64 / 1e6,
            esc(&errors_text(r))
        );
    }
    h.push_str("</table>\n<h2>Errors</h2>\n");
    let errors: Vec<(&BenchRow, &str, usize, &str)> = measured
        .iter()
        .flat_map(|m| {
            let r = &m.row;
            r.errors.iter().map(move |(kind, n)| {
                let example = r.error_examples.get(kind).map_or("", String::as_str);
                (r, *kind, *n, example)
            })
        })
        .collect();
    if errors.is_empty() {
        h.push_str("<p>No request failed.</p>\n");
    } else {
        h.push_str(
            "<table>\n<tr><th>provider · model</th><th class=\"text\">kind</th><th>requests</th>\
             <th class=\"text\">the first message</th></tr>\n",
        );
        for (r, kind, n, example) in errors {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"text\">{}</td><td>{n}</td><td class=\"text\">{}</td></tr>",
                esc(&series_name(r)),
                esc(kind),
                esc(&shorten(example, 500))
            );
        }
        h.push_str("</table>\n");
    }
    let default = || "the server's default".to_owned();
    let params = [
        ("requests per provider and model", run.runs.to_string()),
        ("concurrency", run.concurrency.to_string()),
        ("prompt (characters)", run.prompt_chars.to_string()),
        (
            "system prompt (characters)",
            run.system_chars.map_or("-".to_owned(), |n| n.to_string()),
        ),
        (
            "max tokens",
            run.max_tokens.map_or_else(default, |n| n.to_string()),
        ),
        (
            "temperature",
            run.temperature.map_or_else(default, |t| t.to_string()),
        ),
        ("date (UTC)", httpdate::fmt_http_date(run.date)),
        ("theory-llm", env!("CARGO_PKG_VERSION").to_owned()),
    ];
    let interrupted = run.interrupted.then(|| {
        (
            "interrupted",
            "yes (Ctrl-C): only the requests that finished".to_owned(),
        )
    });
    let params = params.into_iter().chain(interrupted);
    h.push_str("<h2>Parameters</h2>\n<table>\n");
    for (name, value) in params {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"text\">{}</td></tr>",
            esc(name),
            esc(&value)
        );
    }
    h.push_str(
        "</table>\n<p>Made by <code>hello_llm --repeat … --report FILE</code>; \
         <code>--samples FILE</code> writes each request as a JSON line.</p>\n</body>\n</html>\n",
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_a_round_number() {
        assert_eq!(nice_axis(812.0), (200.0, 1000.0));
        assert_eq!(nice_axis(47.9), (10.0, 50.0));
        assert_eq!(nice_axis(0.06), (0.02, 0.06));
        assert_eq!(nice_axis(0.0), (0.2, 1.0));
        assert_eq!(nice_axis(f64::NAN), (0.2, 1.0));
        assert_eq!(tick_label(0.06, 0.02), "0.06");
        assert_eq!(tick_label(1200.0, 200.0), "1200");
        assert_eq!(tick_label(250_000.0, 50_000.0), "250k");
    }

    #[test]
    fn long_tails_get_a_log_axis() {
        let linear = Axis::of(&[300.0, 812.0]);
        assert_eq!(
            linear,
            Axis::Linear {
                step: 200.0,
                end: 1000.0
            }
        );
        assert_eq!(linear.label("latency (ms)"), "latency (ms)");
        assert_eq!(linear.position(500.0), 0.5);
        let log = Axis::of(&[280.0, 7500.0, 215_000.0]);
        assert_eq!(log, Axis::Log { lo: 2, hi: 6 });
        assert_eq!(log.label("latency (ms)"), "latency (ms, log scale)");
        assert_eq!(log.position(10_000.0), 0.5);
        let labels: Vec<String> = log.ticks().into_iter().filter_map(|t| t.1).collect();
        assert_eq!(labels, ["100", "1000", "10k", "100k", "1000k"]);
        // Two decades or less: 2 and 5 are labelled too.
        let labels: Vec<String> = Axis::of(&[0.011, 0.99])
            .ticks()
            .into_iter()
            .filter_map(|t| t.1)
            .collect();
        assert_eq!(labels, ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"]);
        assert_eq!(
            Axis::of(&[]),
            Axis::Linear {
                step: 0.2,
                end: 1.0
            }
        );
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            esc("<b>&\"'\u{1b}[2J\u{ffff}"),
            "&lt;b&gt;&amp;&quot;&#39;\\u{1b}[2J\u{fffd}"
        );
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(median(vec![5, 1, 9, 3]), Some(3));
        assert_eq!(median(vec![]), None);
        assert_eq!(Format::of(Path::new("r.SVG")), Format::Svg);
        assert_eq!(Format::of(Path::new("r.html")), Format::Html);
    }
}

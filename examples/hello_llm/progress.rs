//! Benchmark mode's progress display on stderr: per provider and model, requests done
//! of the total, in flight, errors so far, elapsed time and an estimate of what is left;
//! and a line for the whole run when there are several. Drawn by indicatif, only when
//! stderr is a terminal, and cleared before the results are printed.
//!
//! `run` alone (as tests call it, with in-memory writers) never draws: only `main`
//! turns drawing on, with [`draw_on_terminal`], and only when stderr is a terminal.

use std::cell::Cell;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::Target;
use crate::output::terminal_safe;

static DRAW: AtomicBool = AtomicBool::new(false);

/// Lets benchmarks draw their progress on the process's stderr, if it is a terminal.
pub(crate) fn draw_on_terminal() {
    DRAW.store(std::io::stderr().is_terminal(), Ordering::Relaxed);
}

/// Whether benchmarks draw their progress (see [`draw_on_terminal`]).
pub(crate) fn drawing() -> bool {
    DRAW.load(Ordering::Relaxed)
}

/// The style of `template`; indicatif's default one should the template be wrong (a
/// bug here, not the user's), rather than a panic.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

const WAITING: &str = "{prefix} {pos:>4}/{len} waiting";
const RUNNING: &str = "{prefix} {pos:>4}/{len} [{bar:24}] {msg} · {elapsed} elapsed · ~{eta} left";
const DONE: &str = "{prefix} {pos:>4}/{len} {msg}";

/// The whole display: one bar per provider and model (and a total), or nothing.
#[derive(Debug)]
pub(crate) struct Progress {
    multi: Option<MultiProgress>,
    targets: Vec<TargetProgress>,
    total: Option<ProgressBar>,
}

impl Progress {
    /// A display of `runs` requests to each of `targets` on stderr, if `draw`; else one
    /// that only counts.
    pub(crate) fn new(targets: &[Target], runs: usize, draw: bool) -> Progress {
        let target = if draw {
            Some(ProgressDrawTarget::stderr())
        } else {
            None
        };
        Progress::with(targets, runs, target)
    }

    /// As `new`, drawing on `target` (`None`: not at all).
    fn with(targets: &[Target], runs: usize, target: Option<ProgressDrawTarget>) -> Progress {
        let Some(target) = target else {
            return Progress {
                multi: None,
                targets: targets.iter().map(|_| TargetProgress::new(None)).collect(),
                total: None,
            };
        };
        let multi = MultiProgress::with_draw_target(target);
        let labels: Vec<String> = targets.iter().map(label).collect();
        let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let pad = |l: &str| format!("{l:<width$}");
        let bars = labels
            .iter()
            .map(|l| {
                let bar = multi.add(ProgressBar::new(runs as u64));
                bar.set_style(style(WAITING));
                bar.set_prefix(pad(l));
                TargetProgress::new(Some(bar))
            })
            .collect();
        let total = (targets.len() > 1).then(|| {
            let bar = multi.add(ProgressBar::new((runs * targets.len()) as u64));
            bar.set_style(style(RUNNING));
            bar.set_prefix(pad("all"));
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress {
            multi: Some(multi),
            targets: bars,
            total,
        }
    }

    /// Whether it draws.
    pub(crate) fn drawn(&self) -> bool {
        self.multi.is_some()
    }

    /// The progress of the `i`th target.
    fn target(&self, i: usize) -> Option<&TargetProgress> {
        self.targets.get(i)
    }

    /// The `i`th target's first request is about to be sent: its clock starts.
    pub(crate) fn start(&self, i: usize) {
        if let Some(t) = self.target(i) {
            t.start();
        }
    }

    /// A request to the `i`th target was sent.
    pub(crate) fn sent(&self, i: usize) {
        if let Some(t) = self.target(i) {
            t.sent();
        }
        self.update_total(0);
    }

    /// A request to the `i`th target ended, `failed` or not.
    pub(crate) fn ended(&self, i: usize, failed: bool) {
        if let Some(t) = self.target(i) {
            t.ended(failed);
        }
        self.update_total(1);
    }

    /// No request to the `i`th target could be sent (the provider could not be built):
    /// all `runs` failed.
    pub(crate) fn all_failed(&self, i: usize, runs: usize) {
        if let Some(t) = self.target(i) {
            t.all_failed(runs);
        }
        self.update_total(runs);
    }

    /// All requests to the `i`th target ended.
    pub(crate) fn finish(&self, i: usize) {
        if let Some(t) = self.target(i) {
            t.finish();
        }
    }

    /// The total line: `done` more requests ended.
    fn update_total(&self, done: usize) {
        if let Some(total) = &self.total {
            total.inc(done as u64);
            let errors = self.targets.iter().map(|t| t.errors.get()).sum();
            let in_flight = self.targets.iter().map(|t| t.in_flight.get()).sum();
            total.set_message(counts(in_flight, errors));
        }
    }

    /// Removes the display from the terminal, before the results are printed.
    pub(crate) fn clear(&self) {
        let bars = self.targets.iter().filter_map(|t| t.bar.as_ref());
        for bar in bars.chain(&self.total) {
            bar.disable_steady_tick();
            bar.finish_and_clear();
        }
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}

/// Interrupted (Ctrl-C drops the benchmark), the display goes too, rather than leave
/// half-drawn bars above the error.
impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `openai=smollm2`, as on the command line, made safe for the terminal.
fn label(target: &Target) -> String {
    let text = match &target.model {
        Some(model) => format!("{}={model}", target.provider),
        None => target.provider.clone(),
    };
    terminal_safe(&text).into_owned()
}

fn counts(in_flight: usize, errors: usize) -> String {
    let s = if errors == 1 { "" } else { "s" };
    format!("{in_flight} in flight · {errors} error{s}")
}

/// The progress of one provider and model: counts, and its bar if drawn.
#[derive(Debug)]
struct TargetProgress {
    bar: Option<ProgressBar>,
    in_flight: Cell<usize>,
    errors: Cell<usize>,
    started: Cell<Option<Instant>>,
}

impl TargetProgress {
    fn new(bar: Option<ProgressBar>) -> TargetProgress {
        TargetProgress {
            bar,
            in_flight: Cell::new(0),
            errors: Cell::new(0),
            started: Cell::new(None),
        }
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(counts(self.in_flight.get(), self.errors.get()));
        }
    }

    /// Its first request is about to be sent: the clock starts.
    fn start(&self) {
        self.started.set(Some(Instant::now()));
        if let Some(bar) = &self.bar {
            bar.set_style(style(RUNNING));
            bar.reset();
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        self.redraw();
    }

    /// A request was sent.
    fn sent(&self) {
        self.in_flight.set(self.in_flight.get() + 1);
        self.redraw();
    }

    /// A request ended, `failed` or not.
    fn ended(&self, failed: bool) {
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
        if failed {
            self.errors.set(self.errors.get() + 1);
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.redraw();
    }

    /// No request could be sent (the provider could not be built): all `runs` failed.
    fn all_failed(&self, runs: usize) {
        self.errors.set(self.errors.get() + runs);
        if let Some(bar) = &self.bar {
            bar.set_position(runs as u64);
        }
    }

    /// All its requests ended.
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            let took = self
                .started
                .get()
                .map_or(0.0, |t| t.elapsed().as_secs_f64());
            let errors = self.errors.get();
            let s = if errors == 1 { "" } else { "s" };
            bar.disable_steady_tick();
            bar.set_style(style(DONE));
            bar.finish_with_message(format!("done in {took:.1} s · {errors} error{s}"));
        }
    }

    /// Requests in flight now.
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.in_flight.get()
    }

    /// Requests that failed so far.
    #[cfg(test)]
    fn errors(&self) -> usize {
        self.errors.get()
    }

    /// Its bar, if drawn.
    #[cfg(test)]
    fn bar(&self) -> Option<&ProgressBar> {
        self.bar.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Vec<Target> {
        vec![
            Target {
                provider: "openai".into(),
                model: Some("smollm2".into()),
            },
            Target {
                provider: "ollama\u{1b}[2J".into(),
                model: None,
            },
        ]
    }

    #[test]
    fn without_a_terminal_nothing_is_drawn() {
        // `run` in tests never turned drawing on.
        assert!(!drawing());
        let p = Progress::new(&targets(), 3, false);
        assert!(!p.drawn());
        assert!(p.target(0).unwrap().bar().is_none());
    }

    #[test]
    fn bars_count_what_is_done_in_flight_and_failed() {
        let p = Progress::with(&targets(), 3, Some(ProgressDrawTarget::hidden()));
        assert!(p.drawn());
        p.start(0);
        p.sent(0);
        p.sent(0);
        p.ended(0, true);
        let t = p.target(0).unwrap();
        assert_eq!((t.in_flight(), t.errors()), (1, 1));
        let bar = t.bar().unwrap();
        assert_eq!((bar.position(), bar.length()), (1, Some(3)));
        assert_eq!(bar.message(), "1 in flight · 1 error");
        assert!(bar.prefix().starts_with("openai=smollm2"));
        // Names from the command line cannot drive the terminal.
        let other = p.target(1).unwrap().bar().unwrap().prefix();
        assert!(other.starts_with("ollama\\u{1b}[2J"), "{other}");
        p.ended(0, false);
        p.ended(0, false);
        p.finish(0);
        assert!(bar.is_finished());
        assert!(bar.message().contains("1 error"), "{}", bar.message());
        p.start(1);
        p.all_failed(1, 3);
        p.finish(1);
        let total = p.total.as_ref().unwrap();
        assert_eq!((total.position(), total.length()), (6, Some(6)));
        assert_eq!(total.message(), "0 in flight · 4 errors");
        p.clear();
    }
}

//! `--trace`: each call's span, printed to stderr as JSON lines by tracing-subscriber's
//! JSON formatter: one line per retry (an event inside the span) and one when the span
//! closes, with every attribute the crate recorded. This is all an app needs to see the
//! spans; to export them to an OpenTelemetry collector, put a `tracing-opentelemetry`
//! layer in place of this one.

use tracing_subscriber::fmt::format::FmtSpan;

/// Installs the JSON printer as the global subscriber (once; later calls do nothing).
pub(crate) fn print_spans_to_stderr() {
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::CLOSE)
        .with_current_span(true)
        .with_span_list(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
}

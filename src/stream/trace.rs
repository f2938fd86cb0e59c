//! The `tracing` span of one call (feature `tracing`): `chat {model}` with the
//! OpenTelemetry GenAI attributes, declared when the stream is made and recorded as they
//! become known; the `ChatStream` enters it on every poll, so retries (span events) and
//! the HTTP client's own spans nest under it.
//!
//! A span's name is static in `tracing`: it is `chat`, and `otel.name` carries
//! `chat {model}`, which `tracing-opentelemetry` exports as the span's name.

use tracing::field::Empty;
use tracing::Span;

use crate::chunk::{Chunk, Finish};
use crate::error::Error;
use crate::stream::StreamInfo;
use crate::usage::token_counts;

/// The environment variable that opts in to recording message content, by the
/// OpenTelemetry GenAI convention.
pub(crate) const CAPTURE_CONTENT: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

/// Whether the app opted in to recording message content.
pub(crate) fn capture_content() -> bool {
    std::env::var(CAPTURE_CONTENT).is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The span of one call, and what it counts to record the usage at the end. What the
/// call is (model, prices) is the stream's `StreamInfo`, passed in rather than copied:
/// every open stream holds one of these.
#[derive(Debug)]
pub(crate) struct CallSpan {
    pub(crate) span: Span,
    started: tokio::time::Instant,
    first_chunk_seen: bool,
    /// Characters of text and reasoning, for the output estimate.
    output_chars: usize,
    /// The output text, when content is captured.
    output: Option<String>,
    done: bool,
    /// No subscriber wants the span: nothing to count or record (the feature compiled
    /// in but unused costs a branch per chunk).
    disabled: bool,
}

impl CallSpan {
    /// The span of a call described by `info`, started at `started`.
    pub(crate) fn new(info: &StreamInfo, started: tokio::time::Instant) -> CallSpan {
        let span = tracing::info_span!(
            target: "theory_llm",
            "chat",
            otel.name = format!("chat {}", info.model).as_str(),
            otel.kind = "client",
            otel.status_code = Empty,
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = info.provider.as_str(),
            gen_ai.request.model = info.model.as_str(),
            gen_ai.request.max_tokens = Empty,
            gen_ai.request.temperature = Empty,
            gen_ai.request.stream = true,
            gen_ai.response.id = Empty,
            gen_ai.response.model = Empty,
            gen_ai.response.finish_reasons = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            gen_ai.usage.cache_read.input_tokens = Empty,
            gen_ai.usage.reasoning.output_tokens = Empty,
            gen_ai.response.time_to_first_chunk = Empty,
            gen_ai.input.messages = Empty,
            gen_ai.output.messages = Empty,
            server.address = Empty,
            server.port = Empty,
            error.type = Empty,
            theory_llm.usd_micros = Empty,
            theory_llm.tokens_estimated = Empty,
        );
        let telemetry = &info.telemetry;
        if let Some(max) = telemetry.max_tokens {
            span.record("gen_ai.request.max_tokens", max);
        }
        if let Some(temperature) = telemetry.temperature {
            span.record("gen_ai.request.temperature", f64::from(temperature));
        }
        if let Some(messages) = &telemetry.captured_input {
            span.record("gen_ai.input.messages", &**messages);
        }
        CallSpan {
            disabled: span.is_disabled(),
            span,
            started,
            first_chunk_seen: false,
            output_chars: 0,
            output: info.telemetry.captured_input.is_some().then(String::new),
            done: false,
        }
    }

    /// Records what an item of the stream described by `info` tells.
    pub(crate) fn item(&mut self, item: &Result<Chunk, Error>, info: &StreamInfo) {
        if self.done || self.disabled {
            return;
        }
        if !self.first_chunk_seen {
            self.first_chunk_seen = true;
            let seconds = self.started.elapsed().as_secs_f64();
            self.span
                .record("gen_ai.response.time_to_first_chunk", seconds);
        }
        match item {
            Ok(Chunk::Text(text)) => {
                self.output_chars += text.chars().count();
                if let Some(output) = &mut self.output {
                    output.push_str(text);
                }
            }
            Ok(Chunk::Reasoning(text)) => self.output_chars += text.chars().count(),
            Ok(Chunk::Finish(finish)) => self.finish(finish, info),
            Ok(_) => {}
            Err(error) => self.fail(error.kind().as_str()),
        }
    }

    fn finish(&mut self, finish: &Finish, info: &StreamInfo) {
        self.done = true;
        let span = &self.span;
        let chars = self.output_chars;
        let (counts, estimated) = token_counts(Some(finish), info.prompt_tokens_estimate, || chars);
        // A fallback chain's finish says which entry answered, and how it prices.
        let pricing = finish
            .route
            .as_ref()
            .map_or(info.pricing, |route| route.pricing);
        let usd_micros = pricing.cost(&counts);
        span.record("gen_ai.usage.input_tokens", counts.input);
        span.record("gen_ai.usage.output_tokens", counts.output);
        if let Some(cached) = finish.cached_tokens_in {
            span.record("gen_ai.usage.cache_read.input_tokens", cached);
        }
        if let Some(reasoning) = finish.reasoning_tokens_out {
            span.record("gen_ai.usage.reasoning.output_tokens", reasoning);
        }
        span.record("theory_llm.usd_micros", usd_micros);
        span.record("theory_llm.tokens_estimated", estimated);
        let reasons = json_string_array([finish.reason.as_str()]);
        span.record("gen_ai.response.finish_reasons", reasons.as_str());
        if let Some(id) = &finish.response_id {
            span.record("gen_ai.response.id", id.as_str());
        }
        let model = finish.model.as_deref().unwrap_or(&info.model);
        span.record("gen_ai.response.model", model);
        // The endpoint that served the reply (of a pool, the one chosen).
        if let Some((host, port)) = finish.endpoint.as_deref().and_then(host_and_port) {
            span.record("server.address", host.as_str());
            span.record("server.port", port);
        }
        if let Some(output) = self.output.take() {
            let messages = serde_json::json!([{"role": "assistant", "content": output}]);
            span.record("gen_ai.output.messages", messages.to_string().as_str());
        }
        span.record("otel.status_code", "ok");
    }

    fn fail(&mut self, kind: &str) {
        self.done = true;
        self.span.record("error.type", kind);
        self.span.record("otel.status_code", "error");
    }
}

/// The host and port of a base URL as shown (its password, if any, redacted).
fn host_and_port(url: &str) -> Option<(String, u16)> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    Some((host.to_owned(), url.port_or_known_default()?))
}

/// A JSON array of strings, as the GenAI convention records a list: written by the JSON
/// serializer, never by `format!`, so a server's text with quotes or backslashes in it
/// stays one entry of valid JSON.
fn json_string_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::Value::from_iter(items).to_string()
}

impl Drop for CallSpan {
    /// A stream dropped before its end was cancelled by the app.
    fn drop(&mut self) {
        if !self.done && !self.disabled {
            self.fail("cancelled");
        }
    }
}

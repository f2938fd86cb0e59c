//! The `tracing` span of a call (feature `tracing`, on for tests): captured with a layer
//! of our own, every attribute checked against the mock and a loopback server; retries
//! as span events; failures and cancellation; the HTTP client's work nested inside.
//!
//! A test binary of its own: tracing decides once per process whether a callsite (the
//! call's span) is wanted. In the shared `it` binary a test without a subscriber could
//! register it as unwanted while a test here installed its subscriber, and the spans
//! went missing (seen once in CI). Here every test installs one first.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use theory_llm::pricing::Price;
use theory_llm::retry::RetryPolicy;
use theory_llm::{ChatRequest, ErrorKind, LlmStreamProvider, MockProvider, OpenAiProvider};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use theory_llm_testkit::loopback::{Reply, Server};
use theory_llm_testkit::transcript;

/// A closed span: its name, its fields as last recorded, and the events inside it.
#[derive(Debug, Clone, Default)]
struct Captured {
    name: String,
    /// The name of its parent span.
    parent: Option<String>,
    fields: BTreeMap<String, Value>,
    events: Vec<BTreeMap<String, Value>>,
}

/// Records every closed span.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields<'a>(&'a mut BTreeMap<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), json!(format!("{value:?}")));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut captured = Captured {
            name: attrs.metadata().name().to_owned(),
            ..Captured::default()
        };
        attrs.record(&mut Fields(&mut captured.fields));
        if let Some(span) = ctx.span(id) {
            captured.parent = span.parent().map(|p| p.name().to_owned());
            span.extensions_mut().insert(captured);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(captured) = span.extensions_mut().get_mut::<Captured>() {
                values.record(&mut Fields(&mut captured.fields));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.event_span(event) {
            if let Some(captured) = span.extensions_mut().get_mut::<Captured>() {
                let mut fields = BTreeMap::new();
                event.record(&mut Fields(&mut fields));
                captured.events.push(fields);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            if let Some(captured) = span.extensions_mut().remove::<Captured>() {
                self.0.lock().unwrap().push(captured);
            }
        }
    }
}

impl Capture {
    /// The `chat` spans closed so far.
    fn calls(&self) -> Vec<Captured> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.name == "chat")
            .cloned()
            .collect()
    }
}

/// Captures the spans of this thread (the test's current-thread runtime) until dropped.
fn capture() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let guard = tracing::subscriber::set_default(subscriber);
    (capture, guard)
}

fn field<'a>(span: &'a Captured, name: &str) -> &'a Value {
    span.fields.get(name).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn a_mock_call_is_one_span_with_every_attribute() {
    let (capture, _guard) = capture();
    let llm = MockProvider::builder()
        .reply("Hi there")
        .tokens(12, 3)
        .build();
    let request = ChatRequest::new("Hello").max_tokens(64).temperature(0.5);
    llm.chat(request).await.unwrap();
    let calls = capture.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let span = &calls[0];
    let expect = [
        ("otel.name", json!("chat mock")),
        ("otel.kind", json!("client")),
        ("otel.status_code", json!("ok")),
        ("gen_ai.operation.name", json!("chat")),
        ("gen_ai.provider.name", json!("mock")),
        ("gen_ai.request.model", json!("mock")),
        ("gen_ai.request.max_tokens", json!(64)),
        ("gen_ai.request.temperature", json!(0.5)),
        ("gen_ai.request.stream", json!(true)),
        ("gen_ai.response.model", json!("mock")),
        ("gen_ai.response.finish_reasons", json!("[\"stop\"]")),
        ("gen_ai.usage.input_tokens", json!(12)),
        ("gen_ai.usage.output_tokens", json!(3)),
        ("theory_llm.usd_micros", json!(0)),
        ("theory_llm.tokens_estimated", json!(false)),
    ];
    for (name, value) in expect {
        assert_eq!(field(span, name), &value, "{name} in {span:#?}");
    }
    let ttft = field(span, "gen_ai.response.time_to_first_chunk")
        .as_f64()
        .unwrap();
    assert!((0.0..10.0).contains(&ttft), "{ttft}");
    // Not known, so not recorded: no error, no response id, no cache counts, no content.
    for absent in [
        "error.type",
        "gen_ai.response.id",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "server.address",
    ] {
        assert_eq!(field(span, absent), &Value::Null, "{absent} in {span:#?}");
    }
}

#[tokio::test]
async fn a_loopback_call_with_a_retry_records_the_server_the_retry_and_the_usage() {
    let (capture, _guard) = capture();
    let busy = Reply::json(503, r#"{"error":{"message":"Overloaded, try again."}}"#);
    let ok = Reply::sse(transcript("llama-server/cached_prompt_repeat_stream.body"));
    let server = Server::sequence(vec![busy, ok]).await;
    let llm = OpenAiProvider::builder()
        .api_key("sk-trace-Hq83Lm2Vx7Rt")
        .base_url(format!("{}/v1", server.url()))
        .price(
            "smollm2",
            Price::per_million_usd(1.0, 2.0).with_cached_input_per_million(0.1),
        )
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let reply = llm
        .chat(ChatRequest::new("Hello").model("smollm2"))
        .await
        .unwrap();
    let calls = capture.calls();
    assert_eq!(calls.len(), 1, "one span covers both attempts: {calls:#?}");
    let span = &calls[0];
    assert_eq!(field(span, "otel.name"), &json!("chat smollm2"));
    assert_eq!(field(span, "gen_ai.provider.name"), &json!("openai"));
    assert_eq!(field(span, "server.address"), &json!("127.0.0.1"));
    assert_eq!(
        field(span, "server.port"),
        &json!(server.addr.port()),
        "{span:#?}"
    );
    let id = reply.response_id.clone().unwrap();
    assert_eq!(field(span, "gen_ai.response.id"), &json!(id));
    assert_eq!(field(span, "gen_ai.response.model"), &json!("smollm2"));
    assert_eq!(field(span, "gen_ai.usage.input_tokens"), &json!(41));
    assert_eq!(field(span, "gen_ai.usage.output_tokens"), &json!(8));
    assert_eq!(
        field(span, "gen_ai.usage.cache_read.input_tokens"),
        &json!(40)
    );
    assert_eq!(
        field(span, "theory_llm.usd_micros"),
        &json!(reply.usage.usd_micros)
    );
    assert_eq!(reply.usage.usd_micros, 21);
    let retries: Vec<_> = span
        .events
        .iter()
        .filter(|e| e.get("message") == Some(&json!("retrying")))
        .collect();
    assert_eq!(retries.len(), 1, "{span:#?}");
    assert_eq!(retries[0].get("error.type"), Some(&json!("server")));
    assert_eq!(
        retries[0].get("http.response.status_code"),
        Some(&json!(503))
    );
    assert_eq!(retries[0].get("retry"), Some(&json!(1)));
    let said = retries[0]
        .get("error.message")
        .and_then(Value::as_str)
        .unwrap();
    assert!(said.contains("Overloaded, try again"), "{said}");
}

#[tokio::test]
async fn a_failure_and_a_dropped_stream_close_their_spans_with_the_error_type() {
    let (capture, _guard) = capture();
    let llm = MockProvider::builder()
        .fail_after(0, ErrorKind::RateLimited, "slow down")
        .build();
    llm.chat("Hi".into()).await.unwrap_err();
    let llm = MockProvider::builder()
        .chunks(["one ", "two ", "three"])
        .build();
    let mut stream = llm.stream_chat("Hi".into());
    stream.next().await.unwrap().unwrap();
    drop(stream);
    let calls = capture.calls();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(field(&calls[0], "error.type"), &json!("rate_limited"));
    assert_eq!(field(&calls[0], "otel.status_code"), &json!("error"));
    assert_eq!(field(&calls[1], "error.type"), &json!("cancelled"));
    assert_eq!(field(&calls[1], "otel.status_code"), &json!("error"));
    assert_eq!(field(&calls[1], "gen_ai.usage.output_tokens"), &Value::Null);
}

#[tokio::test]
async fn work_done_while_polling_nests_under_the_call() {
    let (capture, _guard) = capture();
    // A span opened by the provider's stream while it is polled (as reqwest's and
    // hyper's are) is a child of the call's span.
    let info = theory_llm::kit::StreamInfo::new("custom", "m1");
    let stream = futures::stream::poll_fn(|_| {
        let _child = tracing::info_span!("child_of_call").entered();
        tracing::info!("inside");
        std::task::Poll::Ready(Some(Ok(theory_llm::Chunk::from(theory_llm::Finish::new(
            theory_llm::FinishReason::Stop,
        )))))
    });
    theory_llm::ChatStream::new(info, stream)
        .reply()
        .await
        .unwrap();
    let spans = capture.0.lock().unwrap().clone();
    let child = spans.iter().find(|s| s.name == "child_of_call").unwrap();
    assert_eq!(child.parent.as_deref(), Some("chat"), "{spans:#?}");
    assert_eq!(child.events.len(), 1);
    let call = spans.iter().find(|s| s.name == "chat").unwrap();
    assert_eq!(call.parent, None);
    assert_eq!(field(call, "otel.name"), &json!("chat m1"));
}

/// Regression (issue 24, item 16): `gen_ai.response.finish_reasons` was built with
/// `format!`, so a server's finish reason with a quote in it added entries to the array.
#[tokio::test]
async fn a_finish_reason_with_quotes_is_one_entry_of_valid_json() {
    let (capture, _guard) = capture();
    let reason = r#"stop","injected"#;
    let info = theory_llm::kit::StreamInfo::new("custom", "m1");
    let finish = theory_llm::Finish::new(theory_llm::FinishReason::Other(reason.into()))
        .with_response_id(r#"id","x\"#)
        .with_model(r#"m"]"#);
    let stream = futures::stream::iter([Ok(theory_llm::Chunk::from(finish))]);
    theory_llm::ChatStream::new(info, stream)
        .reply()
        .await
        .unwrap();
    let calls = capture.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let recorded = field(&calls[0], "gen_ai.response.finish_reasons")
        .as_str()
        .unwrap();
    let reasons: Vec<String> = serde_json::from_str(recorded)
        .unwrap_or_else(|e| panic!("not a JSON array of strings ({e}): {recorded}"));
    assert_eq!(reasons, [reason], "{recorded}");
    // Plain-string attributes carry the server's text as it is.
    assert_eq!(field(&calls[0], "gen_ai.response.id"), &json!(r#"id","x\"#));
    assert_eq!(field(&calls[0], "gen_ai.response.model"), &json!(r#"m"]"#));
}

/// Issue 25: the span named the first endpoint of a pool as `server.address` and
/// `server.port`, even when another one served the reply. It names the one that did.
#[tokio::test]
async fn the_span_names_the_endpoint_that_served() {
    let (capture, _guard) = capture();
    let dead = Server::reply(Reply::json(503, r#"{"error":{"message":"Down."}}"#)).await;
    let live = Server::reply(Reply::sse(transcript(
        "llama-server/cached_prompt_repeat_stream.body",
    )))
    .await;
    let llm = OpenAiProvider::builder()
        .base_url(format!("{}/v1", dead.url()))
        .endpoints([format!("{}/v1", live.url())])
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    let reply = llm.chat(ChatRequest::new("Hello")).await.unwrap();
    assert!(reply
        .endpoint
        .unwrap()
        .contains(&live.addr.port().to_string()));
    let calls = capture.calls();
    let span = calls.last().unwrap();
    assert_eq!(
        field(span, "server.port"),
        &json!(live.addr.port()),
        "{span:#?}"
    );
}

//! Message content in the tracing span, only when the app opts in with
//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`. A test binary of its own:
//! it sets a process-wide environment variable, which no other test may see.

use std::sync::{Arc, Mutex};

use theory_llm::{ChatRequest, LlmStreamProvider, MockProvider};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The values recorded for the two content fields, in order.
#[derive(Clone, Default)]
struct Content(Arc<Mutex<Vec<(String, String)>>>);

impl Visit for Content {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name().ends_with(".messages") {
            self.0
                .lock()
                .unwrap()
                .push((field.name().to_owned(), value.to_owned()));
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Content {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        attrs.record(&mut self.clone());
    }
    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        values.record(&mut self.clone());
    }
}

fn run_chat(content: &Content) -> Vec<(String, String)> {
    content.0.lock().unwrap().clear();
    let subscriber = tracing_subscriber::registry().with(content.clone());
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let llm = MockProvider::builder().reply("Bonjour !").build();
            let request = ChatRequest::new("Say hello in French.").system("Be brief.");
            llm.chat(request).await.unwrap();
        });
    });
    content.0.lock().unwrap().clone()
}

#[test]
fn content_is_recorded_only_when_the_app_opts_in() {
    let content = Content::default();
    assert!(run_chat(&content).is_empty(), "recorded without opting in");

    // The only test in this binary: nothing else reads the environment meanwhile.
    std::env::set_var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true");
    let recorded = run_chat(&content);
    std::env::remove_var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT");

    assert_eq!(recorded.len(), 2, "{recorded:?}");
    let (name, input) = &recorded[0];
    assert_eq!(name, "gen_ai.input.messages");
    let input: serde_json::Value = serde_json::from_str(input).unwrap();
    assert_eq!(
        input,
        serde_json::json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello in French."}
        ])
    );
    let (name, output) = &recorded[1];
    assert_eq!(name, "gen_ai.output.messages");
    let output: serde_json::Value = serde_json::from_str(output).unwrap();
    assert_eq!(
        output,
        serde_json::json!([{"role": "assistant", "content": "Bonjour !"}])
    );
}

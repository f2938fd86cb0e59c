//! The public API, end to end on the mock provider: no network.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use theory_llm::pricing::Pricing;
use theory_llm::reply::Collector;
use theory_llm::{
    get_llm_provider, ChatRequest, ChatStream, Chunk, Error, ErrorKind, FinishReason,
    LlmStreamProvider, Message, MockProvider, Registry, Timeouts,
};

// Compile-time checks: what apps move across tasks must be Send + 'static.
fn assert_send_static<T: Send + 'static>() {}
fn assert_send_sync_static<T: Send + Sync + 'static>() {}
#[test]
fn public_types_are_send_and_static() {
    assert_send_sync_static::<Error>();
    assert_send_static::<ChatStream>();
    assert_send_static::<theory_llm::stream::TextStream>();
    assert_send_sync_static::<Box<dyn LlmStreamProvider>>();
    assert_send_static::<Collector>();
    assert_send_sync_static::<Registry>();
    fn chat_future_is_send(p: &dyn LlmStreamProvider) -> impl Send + '_ {
        p.chat("x".into())
    }
    let _ = chat_future_is_send;
}

#[tokio::test]
async fn collected_text_equals_the_streamed_deltas() {
    let llm = get_llm_provider("mock").unwrap();
    let request = ChatRequest::new("Tell me something");
    let deltas: Vec<theory_llm::stream::Text> = llm
        .stream_chat(request.clone())
        .text()
        .try_collect()
        .await
        .unwrap();
    assert!(deltas.len() > 3, "the mock streams word by word");
    let reply = llm.chat(request).await.unwrap();
    assert_eq!(reply.text, deltas.concat());
    assert_eq!(reply.provider, "mock");
    assert_eq!(reply.model, "mock");
    assert_eq!(reply.finish_reason, FinishReason::Stop);
    assert!(reply.usage.tokens_in > 0 && reply.usage.tokens_out > 0);
    assert!(reply.usage.latency_ms > 0.0);
    assert!(reply.usage.ttft_ms.unwrap() <= reply.usage.latency_ms);
    assert_eq!(
        (reply.usage.usd_micros, reply.usage.cost_basis),
        (0, Pricing::Free)
    );
}

#[tokio::test]
async fn the_last_item_is_one_finish_with_counts() {
    let llm = MockProvider::builder()
        .chunks(["a", "b"])
        .tokens(11, 2)
        .build();
    let items: Vec<Chunk> = llm.stream_chat("hi".into()).try_collect().await.unwrap();
    assert_eq!(items.len(), 3);
    let Chunk::Finish(finish) = &items[2] else {
        panic!("{items:?}")
    };
    assert_eq!((finish.tokens_in, finish.tokens_out), (Some(11), Some(2)));
}

#[tokio::test(start_paused = true)]
async fn ttft_and_latency_on_the_paused_clock() {
    let llm = MockProvider::builder()
        .chunks(["one", " two", " three"])
        .delay(Duration::from_millis(100))
        .build();
    let start = tokio::time::Instant::now();
    let reply = llm.chat("hi".into()).await.unwrap();
    // Each of the 3 chunks and the finish waits 100 ms.
    assert_eq!(reply.usage.ttft_ms, Some(100.0));
    assert_eq!(reply.usage.latency_ms, 400.0);
    assert_eq!(start.elapsed(), Duration::from_millis(400));
}

#[tokio::test(start_paused = true)]
async fn a_collector_fed_by_the_app_matches_chat() {
    let llm = MockProvider::builder()
        .reply("live tokens here")
        .delay(Duration::from_millis(5))
        .build();
    let mut stream = llm.stream_chat("hi".into());
    let mut collector = Collector::for_stream(&stream);
    let mut shown = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if let Some(t) = chunk.as_text() {
            shown.push_str(t);
        }
        collector.push(&chunk).unwrap();
    }
    let mine = collector.finish().unwrap();
    let theirs = llm.chat("hi".into()).await.unwrap();
    assert_eq!(mine.text, shown);
    assert_eq!(mine.text, theirs.text);
    assert_eq!(mine.usage, theirs.usage);
}

#[tokio::test]
async fn injected_errors_arrive_after_the_scripted_chunks() {
    let llm = MockProvider::builder()
        .chunks(["a", "b", "c", "d"])
        .fail_after(2, ErrorKind::RateLimited, "slow down (scripted)")
        .build();
    let items: Vec<_> = llm.stream_chat("hi".into()).collect().await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap(), &Chunk::Text("a".into()));
    assert_eq!(items[1].as_ref().unwrap(), &Chunk::Text("b".into()));
    let err = items[2].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.to_string(), "slow down (scripted)");

    let err = llm.chat("hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
}

#[tokio::test]
async fn the_text_view_skips_reasoning_and_passes_errors() {
    let llm = MockProvider::builder()
        .reasoning(["thinking..."])
        .chunks(["x", "y"])
        .fail_after(1, ErrorKind::Server, "boom")
        .build();
    let items: Vec<_> = llm.stream_chat("hi".into()).text().collect().await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_deref().unwrap(), "x");
    assert_eq!(items[1].as_ref().unwrap_err().kind(), ErrorKind::Server);
}

#[tokio::test]
async fn reasoning_is_kept_apart_from_the_reply() {
    let llm = MockProvider::builder()
        .reasoning(["Let me see. "])
        .reply("42")
        .build();
    let reply = llm.chat("q".into()).await.unwrap();
    assert_eq!(reply.text, "42");
    assert_eq!(reply.reasoning, "Let me see. ");
}

#[tokio::test]
async fn without_reported_usage_counts_are_estimated_and_flagged() {
    let llm = MockProvider::builder()
        .reply("abcd efgh")
        .report_usage(false)
        .build();
    let reply = llm.chat("12345678".into()).await.unwrap();
    assert!(reply.usage.tokens_estimated);
    assert_eq!(reply.usage.tokens_in, 2);
    assert_eq!(reply.usage.tokens_out, 3); // 9 characters
}

#[tokio::test]
async fn requests_carry_model_system_and_history() {
    let llm = MockProvider::new();
    let request = ChatRequest::default()
        .model("mock-large")
        .system("Be terse.")
        .messages([
            Message::user("first"),
            Message::assistant("ok"),
            Message::user("second"),
        ]);
    let reply = llm.chat(request).await.unwrap();
    assert_eq!(reply.model, "mock-large");
    assert!(reply.text.contains("second"), "{}", reply.text);
}

#[tokio::test]
async fn invalid_requests_are_rejected_before_sending() {
    let llm = MockProvider::new();
    for bad in [
        ChatRequest::default(),
        ChatRequest::new("x").temperature(9.0),
    ] {
        let err = llm.chat(bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    }
}

#[tokio::test(start_paused = true)]
async fn request_timeouts_apply_to_any_provider() {
    let llm = MockProvider::builder()
        .chunks(["slow"])
        .delay(Duration::from_secs(30))
        .build();
    let request =
        ChatRequest::new("hi").timeouts(Timeouts::default().first_chunk(Duration::from_secs(5)));
    let err = llm.chat(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("5 s"), "{err}");
}

#[test]
fn the_factory_names_every_provider_it_knows() {
    let err = get_llm_provider("gpt").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    let msg = err.to_string();
    for name in Registry::builtin().names() {
        assert!(msg.contains(name), "{msg}");
    }
    assert!(msg.contains("mock"));
    assert_eq!(get_llm_provider("MOCK").unwrap().name(), "mock");
}

#[derive(Debug)]
struct Shouty;

impl LlmStreamProvider for Shouty {
    fn name(&self) -> &str {
        "shouty"
    }
    fn default_model(&self) -> &str {
        "loud-1"
    }
    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let words: Vec<String> = request
            .messages
            .last()
            .map(|m| m.content.to_uppercase())
            .unwrap_or_default()
            .split(' ')
            .map(str::to_owned)
            .collect();
        let info = theory_llm::kit::StreamInfo::new("shouty", "loud-1");
        let mut chunks: Vec<theory_llm::Result<Chunk>> = words
            .into_iter()
            .map(|w| Ok(Chunk::Text(w.into())))
            .collect();
        chunks.push(Ok(Chunk::from(theory_llm::Finish::new(FinishReason::Stop))));
        ChatStream::new(info, futures::stream::iter(chunks))
    }
}

#[tokio::test]
async fn custom_providers_get_chat_for_free() {
    let registry = Registry::builtin().with("shouty", |_| Ok(Box::new(Shouty)));
    let llm = registry.create("shouty").unwrap();
    let reply = llm.chat("hello there".into()).await.unwrap();
    assert_eq!(reply.text, "HELLOTHERE");
    assert_eq!(reply.provider, "shouty");
    // No counts reported: estimated, and the unknown price is not passed off as free.
    assert!(reply.usage.tokens_estimated);
    assert_eq!(reply.usage.cost_basis, Pricing::Unknown);
}

//! Recorded streams (issue 16): a recording of any provider replays the same text, tool
//! calls, finish and token counts, at the recorded pace or at once, matched by request
//! or in order; a request with no recording is an error that says so; the crate's
//! transcripts turn into recordings.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use theory_llm::__private as entry;
use theory_llm::pricing::Pricing;
use theory_llm::record::{exchange_lines, Matching, Pace, RecordingProvider, ReplayProvider};
use theory_llm::{
    ChatReply, ChatRequest, Chunk, ErrorKind, FinishReason, LlmStreamProvider, MockProvider,
    OpenAiProvider,
};
use theory_llm_testkit::invariants::wire;

use crate::support::{transcript, Reply, Server, Split};

#[tokio::test]
async fn a_recorded_http_reply_replays_the_same_offline() {
    let server = Server::reply(
        Reply::sse(transcript("llama-server/stream_include_usage.body")).split(Split::Frames),
    )
    .await;
    let llm = OpenAiProvider::builder()
        .api_key("sk-test-Rec0rd9Kq2Lm7")
        .base_url(format!("{}/v1", server.url()))
        .build()
        .unwrap();
    let request = ChatRequest::new("Tell me a joke")
        .model("smollm2")
        .max_tokens(40);
    let (original, recording, again) = record_then_replay(llm, request, server).await;
    assert!(
        !recording.contains("sk-test-Rec0rd9Kq2Lm7"),
        "no secret in a recording"
    );
    assert_eq!(again.text, original.text);
    assert_eq!(again.finish_reason, original.finish_reason);
    assert_eq!(
        (again.usage.tokens_in, again.usage.tokens_out),
        (original.usage.tokens_in, original.usage.tokens_out)
    );
    assert_eq!(again.provider, "openai");
    assert_eq!(again.model, original.model);
    assert_eq!(again.usage.cost_basis, original.usage.cost_basis);
}

#[tokio::test]
async fn tool_calls_errors_and_a_cancelled_stream_are_recorded() {
    let recorder = RecordingProvider::to_memory(
        MockProvider::builder()
            .tool_call("get_weather", json!({"city": "Paris"}))
            .build(),
    );
    let call = recorder.chat("Weather?".into()).await.unwrap();
    let failing = RecordingProvider::to_memory(
        MockProvider::builder()
            .reply("one two")
            .fail_after(1, ErrorKind::Network, "the line dropped")
            .build(),
    );
    failing.chat("Count".into()).await.unwrap_err();
    let slow =
        RecordingProvider::to_memory(MockProvider::builder().chunks(["a", "b", "c"]).build());
    let mut stream = slow.stream_chat("Letters".into());
    stream.next().await.unwrap().unwrap();
    drop(stream);

    let recording = [
        recorder.take_recording().unwrap(),
        failing.take_recording().unwrap(),
        slow.take_recording().unwrap(),
    ]
    .concat();
    assert!(recording.contains(r#""type":"tool_call""#), "{recording}");
    assert!(recording.contains(r#""kind":"network""#), "{recording}");
    assert!(recording.contains(r#""kind":"cancelled""#), "{recording}");

    let replay = ReplayProvider::from_str(&recording)
        .unwrap()
        .pace(Pace::Instant);
    let again = replay.chat("Weather?".into()).await.unwrap();
    assert_eq!(again.tool_calls, call.tool_calls);
    assert_eq!(again.finish_reason, FinishReason::ToolCalls);
    let err = replay.chat("Count".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.to_string().contains("the line dropped"));
    let partial = err.partial().expect("the text before the failure");
    assert!(!partial.text.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_recorded_pace_is_kept() {
    let request = ChatRequest::new("Hi");
    let items = vec![
        (100.0, Ok(Chunk::Text("Hel".into()))),
        (400.0, Ok(Chunk::Text("lo".into()))),
        (
            450.0,
            Ok(Chunk::from(theory_llm::Finish::new(FinishReason::Stop))),
        ),
    ];
    let recording = exchange_lines("openai", "m", &request, Pricing::Unknown, items);
    let replay = ReplayProvider::from_str(&recording).unwrap();
    let started = tokio::time::Instant::now();
    let mut stream = replay.stream_chat(request.clone());
    let mut at = Vec::new();
    while let Some(item) = stream.next().await {
        item.unwrap();
        at.push(started.elapsed().as_millis());
    }
    assert_eq!(at, [100, 400, 450]);
    let instant = ReplayProvider::from_str(&recording)
        .unwrap()
        .pace(Pace::Instant);
    let started = tokio::time::Instant::now();
    instant.chat(request).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test]
async fn matching_by_request_in_order_and_a_request_with_no_recording() {
    let lines = |prompt: &str, text: &str| {
        exchange_lines(
            "mock",
            "m",
            &ChatRequest::new(prompt),
            Pricing::Free,
            [
                (1.0, Ok(Chunk::Text(text.into()))),
                (
                    2.0,
                    Ok(Chunk::from(theory_llm::Finish::new(FinishReason::Stop))),
                ),
            ],
        )
    };
    let recording = [lines("first", "one"), lines("second", "two")].concat();
    let by_request = ReplayProvider::from_str(&recording)
        .unwrap()
        .pace(Pace::Instant);
    assert_eq!(by_request.chat("second".into()).await.unwrap().text, "two");
    assert_eq!(by_request.chat("first".into()).await.unwrap().text, "one");
    let err = by_request.chat("third".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("no recording matches"), "{err}");
    assert!(err.to_string().contains("third"), "{err}");

    let in_order = ReplayProvider::from_str(&recording)
        .unwrap()
        .pace(Pace::Instant)
        .matching(Matching::InOrder);
    assert_eq!(in_order.chat("anything".into()).await.unwrap().text, "one");
    assert_eq!(in_order.chat("anything".into()).await.unwrap().text, "two");

    let err =
        ReplayProvider::from_str("{\"type\":\"text\",\"t_ms\":1,\"text\":\"x\"}").unwrap_err();
    assert!(err.to_string().contains("starts with a chunk"), "{err}");
    let err = ReplayProvider::from_str("not json").unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[tokio::test]
async fn the_crates_transcripts_turn_into_recordings() {
    for (wire, name) in [
        (wire("openai"), "llama-server/stream_include_usage.body"),
        (wire("ollama"), "ollama-compat/chat_unicode.body"),
        (wire("anthropic"), "anthropic/tool_use_stream.body"),
        (
            wire("openai-responses"),
            "responses/function_calls_reasoning.sse",
        ),
        (wire("gemini"), "gemini/parallel_calls_stream.sse"),
    ] {
        let body = transcript(name);
        let items: Vec<_> = entry::decode(wire, vec![bytes::Bytes::from(body)], 1 << 24, "")
            .collect()
            .await;
        let request = ChatRequest::new("from a transcript");
        let again = |item: &theory_llm::Result<Chunk>| match item {
            Ok(chunk) => Ok(chunk.clone()),
            Err(e) => Err(theory_llm::Error::new(e.kind(), e.message())),
        };
        let timed: Vec<_> = items
            .iter()
            .enumerate()
            .map(|(i, item)| (i as f64, again(item)))
            .collect();
        let recording = exchange_lines("p", "m", &request, Pricing::Unknown, timed);
        let replay = ReplayProvider::from_str(&recording)
            .unwrap()
            .pace(Pace::Instant);
        let replayed: Vec<_> = replay.stream_chat(request).collect().await;
        let describe = |items: &[theory_llm::Result<Chunk>]| {
            items
                .iter()
                .map(|i| match i {
                    Ok(c) => format!("{c:?}"),
                    Err(e) => format!("{}: {}", e.kind(), e.message()),
                })
                .collect::<Vec<_>>()
        };
        // The replayed finish carries what a recording keeps (not rate limits or the
        // endpoint, which a transcript does not have either).
        assert_eq!(describe(&replayed), describe(&items), "{name}");
    }
}

#[tokio::test]
async fn a_recording_keeps_the_endpoint_and_the_rate_limits() {
    let server = Server::reply(
        Reply::sse(transcript("llama-server/stream_include_usage.body"))
            .header("x-ratelimit-limit-requests", "10000")
            .header("x-ratelimit-remaining-tokens", "1999975")
            .header("x-ratelimit-reset-tokens", "1.5s"),
    )
    .await;
    let llm = OpenAiProvider::builder()
        .api_key("sk-test-Rec0rd9Kq2Lm7")
        .base_url(format!("{}/v1", server.url()))
        .build()
        .unwrap();
    let request = ChatRequest::new("Tell me a joke").model("smollm2");
    let (original, _, again) = record_then_replay(llm, request, server).await;
    let limits = original.rate_limit.expect("the server sent rate limits");
    assert_eq!(limits.requests.limit, Some(10_000));
    assert!(original.endpoint.is_some());
    assert_eq!(again.endpoint, original.endpoint);
    assert_eq!(again.rate_limit, original.rate_limit);
}

/// `request` through `llm` under a recorder, then again from the recording with the
/// server gone: the original reply, the recording and the replayed reply.
async fn record_then_replay(
    llm: OpenAiProvider,
    request: ChatRequest,
    server: Server,
) -> (ChatReply, String, ChatReply) {
    let recorder = RecordingProvider::to_memory(llm);
    let original = recorder.chat(request.clone()).await.unwrap();
    let recording = recorder.take_recording().unwrap();
    drop(server);
    let replay = ReplayProvider::from_str(&recording)
        .unwrap()
        .pace(Pace::Instant);
    let again = replay.chat(request).await.unwrap();
    (original, recording, again)
}

/// Issue 24: the recorder kept every chunk of an exchange in memory until its end,
/// however long the reply; a reply past its cap (`max_reply_bytes`) could fill memory
/// through the recorder even when the app read it chunk by chunk. Such an exchange is
/// now left out, and the recorder says so; the reply itself is untouched.
#[tokio::test]
async fn an_exchange_past_its_cap_is_not_recorded_and_says_so() {
    let mock = MockProvider::builder()
        .chunks(vec!["0123456789"; 300])
        .build();
    let llm = RecordingProvider::to_memory(mock);
    let mut stream = llm.stream_chat(ChatRequest::new("Hi").max_reply_bytes(1000));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        if let Chunk::Text(t) = chunk.unwrap() {
            text.push_str(&t);
        }
    }
    drop(stream);
    assert_eq!(text.len(), 3000, "the app still gets the whole stream");
    assert_eq!(llm.take_recording().unwrap(), "");
    let why = llm.write_error().expect("the recorder says why");
    assert!(why.contains("1000"), "{why}");

    // Under the cap, the same exchange is recorded.
    let mock = MockProvider::builder()
        .chunks(vec!["0123456789"; 30])
        .build();
    let llm = RecordingProvider::to_memory(mock);
    llm.chat(ChatRequest::new("Hi").max_reply_bytes(1000))
        .await
        .unwrap();
    assert!(llm.take_recording().unwrap().lines().count() > 30);
    assert!(llm.write_error().is_none());
}

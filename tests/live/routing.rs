//! Issue 16 against the real servers: a chain whose first entry is a closed port
//! answers from llama.cpp; a recording of a live reply replays identically offline.

use theory_llm::record::{Pace, RecordingProvider, ReplayProvider};
use theory_llm::routing::FallbackProvider;
use theory_llm::{ChatRequest, ErrorKind, LlmStreamProvider, OpenAiProvider};

use crate::{model, openai};

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn a_chain_whose_first_entry_is_a_closed_port_answers_from_the_next() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let dead = OpenAiProvider::builder()
        .api_key("none")
        .base_url(closed)
        .build()
        .unwrap();
    let llm = FallbackProvider::builder()
        .entry(dead, Some("nothing-here"))
        .entry(openai(), Some(&model()))
        .build()
        .unwrap();
    let reply = llm
        .chat(
            ChatRequest::new("Say hello.")
                .temperature(0.0)
                .max_tokens(16),
        )
        .await
        .unwrap();
    assert!(!reply.text.is_empty());
    assert_eq!(reply.model, model());
    assert_eq!(reply.attempts.len(), 1);
    assert_eq!(reply.attempts[0].kind, ErrorKind::ProviderUnavailable);
    assert!(reply.endpoint.unwrap().starts_with("http://127.0.0.1"));
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn a_recording_of_a_live_reply_replays_identically_offline() {
    let recorder = RecordingProvider::to_memory(openai());
    let request = ChatRequest::new("Name two rivers.")
        .temperature(0.0)
        .max_tokens(24);
    let live = recorder.chat(request.clone()).await.unwrap();
    let recording = recorder.take_recording().unwrap();
    let replay = ReplayProvider::from_str(&recording)
        .unwrap()
        .pace(Pace::Instant);
    let again = replay.chat(request).await.unwrap();
    assert_eq!(again.text, live.text);
    assert_eq!(again.finish_reason, live.finish_reason);
    assert_eq!(again.tool_calls, live.tool_calls);
    assert_eq!(
        (again.usage.tokens_in, again.usage.tokens_out),
        (live.usage.tokens_in, live.usage.tokens_out)
    );
    assert_eq!(again.response_id, live.response_id);
}

//! Issue 24: secrets that reached the user. A server that echoes a secret back in reply
//! metadata. Only the model name
//! was scrubbed; a key echoed as the response id, the finish reason or a tool call's id
//! was printed, recorded and traced. And a server echoing `Authorization: Basic …`
//! showed the base64 of the base URL's user and password. Every string from the server
//! that is shown or stored goes through redaction (the model's text excepted: it is
//! the reply). And a URL password holding `#`, `/` or `?`: the URL does not parse, and
//! the error saying so showed it.

use theory_llm::{
    AnthropicProvider, ChatReply, LlmStreamProvider, OllamaProvider, OpenAiProvider,
    OpenAiResponsesProvider,
};

use crate::support::{Reply, Server};

const KEY: &str = "sk-echo-0123456789abcdefghijklmnop";

/// Whether any part of the reply, as `hello_llm --json` would print it, shows the key
/// (or a long run of it).
fn assert_clean(what: &str, reply: &ChatReply, secret: &str) {
    let shown = format!(
        "{} {:?} {:?} {:?}",
        serde_json::to_string(reply).unwrap(),
        reply.finish_reason,
        reply.response_id,
        reply.tool_calls
    );
    assert!(!shown.contains(&secret[4..16]), "{what}: {shown}");
}

#[tokio::test]
async fn openai_response_id_finish_reason_and_tool_call_ids_are_redacted() {
    let event = serde_json::json!({"id": KEY, "model": "m", "choices": [{"index": 0,
        "delta": {"tool_calls": [{"index": 0, "id": KEY, "type": "function",
            "function": {"name": "f", "arguments": "{}"}}]}}]});
    let last = serde_json::json!({"id": KEY, "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": KEY}]});
    let body = format!("data: {event}\n\ndata: {last}\n\ndata: [DONE]\n\n");
    let server = Server::reply(Reply::sse(body)).await;
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .build()
        .unwrap();
    let reply = llm.chat("Hi".into()).await.unwrap();
    assert_eq!(reply.tool_calls.len(), 1);
    assert_clean("openai", &reply, KEY);
}

#[tokio::test]
async fn anthropic_message_id_and_stop_reason_are_redacted() {
    let events = [
        serde_json::json!({"type":"message_start","message":{"id":KEY,"type":"message","role":"assistant",
            "content":[],"model":"claude","usage":{"input_tokens":3,"output_tokens":0}}}),
        serde_json::json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}}),
        serde_json::json!({"type":"content_block_stop","index":0}),
        serde_json::json!({"type":"message_delta","delta":{"stop_reason":KEY},"usage":{"output_tokens":1}}),
        serde_json::json!({"type":"message_stop"}),
    ];
    let body: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect();
    let server = Server::reply(Reply::sse(body)).await;
    let llm = AnthropicProvider::builder()
        .api_key(KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    let reply = llm.chat("Hi".into()).await.unwrap();
    assert_clean("anthropic", &reply, KEY);
}

/// A thinking block's signature or redacted data is server metadata too: a key echoed
/// there was kept in `reasoning_blocks` and shown by `Debug`, `--json` and recordings.
#[tokio::test]
async fn anthropic_thinking_signatures_and_redacted_data_are_redacted() {
    let events = [
        serde_json::json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",
            "content":[],"model":"claude","usage":{"input_tokens":3,"output_tokens":0}}}),
        serde_json::json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"hm"}}),
        serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":KEY}}),
        serde_json::json!({"type":"content_block_stop","index":0}),
        serde_json::json!({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":KEY}}),
        serde_json::json!({"type":"content_block_stop","index":1}),
        serde_json::json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}),
        serde_json::json!({"type":"message_stop"}),
    ];
    let body: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect();
    let server = Server::reply(Reply::sse(body)).await;
    let llm = AnthropicProvider::builder()
        .api_key(KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    let reply = llm.chat("Hi".into()).await.unwrap();
    assert_eq!(reply.reasoning_blocks.len(), 2);
    assert_clean("anthropic", &reply, KEY);
    assert!(!format!("{reply:?}").contains(&KEY[4..16]), "{reply:?}");
}

#[tokio::test]
async fn responses_id_is_redacted() {
    let events = [
        serde_json::json!({"type":"response.created","response":{"id":KEY,"status":"in_progress"}}),
        serde_json::json!({"type":"response.output_text.delta","item_id":"m1","output_index":0,
            "content_index":0,"delta":"Hi"}),
        serde_json::json!({"type":"response.completed","response":{"id":KEY,"model":"m",
            "status":"completed","output":[],"usage":{"input_tokens":3,"output_tokens":1,"total_tokens":4}}}),
    ];
    let body: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect();
    let server = Server::reply(Reply::sse(body)).await;
    let llm = OpenAiResponsesProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .build()
        .unwrap();
    let reply = llm.chat("Hi".into()).await.unwrap();
    assert_clean("openai-responses", &reply, KEY);
}

/// A server that echoes the Basic credentials of the base URL's user and password.
#[tokio::test]
async fn echoed_basic_credentials_of_the_url_are_redacted() {
    let password = "hunter2-very-secret-pw";
    let basic = "YWRtaW46aHVudGVyMi12ZXJ5LXNlY3JldC1wdw=="; // admin:hunter2-very-secret-pw
    let at = |server: &Server| {
        let base = server
            .url()
            .replace("http://", &format!("http://admin:{password}@"));
        OpenAiProvider::builder()
            .base_url(format!("{base}/v1"))
            .build()
            .unwrap()
    };
    let event = serde_json::json!({"id": format!("Basic {basic}"), "model": "m", "choices": [{"index": 0,
        "delta": {"content": "Hi"}, "finish_reason": "stop"}]});
    let server = Server::reply(Reply::sse(format!("data: {event}\n\ndata: [DONE]\n\n"))).await;
    let reply = at(&server).chat("Hi".into()).await.unwrap();
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_clean("Basic, in the reply", &reply, basic);

    let error = format!(r#"{{"error":{{"message":"bad credentials: Basic {basic}"}}}}"#);
    let server = Server::reply(Reply::json(401, error)).await;
    let err = at(&server).chat("Hi".into()).await.unwrap_err().to_string();
    assert!(err.contains("bad credentials"), "{err}");
    assert!(!err.contains(&basic[4..16]), "{err}");
}

/// Passwords that make a URL unparseable, or parse it wrong: the error shows neither
/// them nor any long run of them.
const AWKWARD_PASSWORDS: [&str; 4] = [
    "pa#ss-word-1234567",
    "pa/ss-word-1234567",
    "pa?ss-word-1234567",
    "pa:ss@word-1234567",
];

fn assert_not_shown(what: &str, result: theory_llm::Result<impl std::fmt::Debug>, password: &str) {
    let err = result.expect_err(what).to_string();
    assert!(err.contains("not usable"), "{what}: {err}");
    assert!(!err.contains(&password[3..]), "{what}: {err}");
}

#[test]
fn a_url_password_that_breaks_parsing_is_never_shown() {
    for password in AWKWARD_PASSWORDS {
        // A port that does not parse makes even a well-formed password fail.
        let url = format!("http://admin:{password}@127.0.0.1:99999/v1");
        let openai = OpenAiProvider::builder().base_url(&url).build();
        assert_not_shown("OPENAI_BASE_URL", openai, password);
        let anthropic = AnthropicProvider::builder()
            .api_key(KEY)
            .base_url(&url)
            .build();
        assert_not_shown("ANTHROPIC_BASE_URL", anthropic, password);
        let pool = OpenAiProvider::builder()
            .base_url("http://127.0.0.1:8080/v1")
            .endpoints([url.clone()])
            .build();
        assert_not_shown("--endpoints", pool, password);
        for host in [url.clone(), format!("admin:{password}@127.0.0.1:99999")] {
            let ollama = OllamaProvider::builder().host(&host).build();
            assert_not_shown("OLLAMA_HOST", ollama, password);
        }
    }
}

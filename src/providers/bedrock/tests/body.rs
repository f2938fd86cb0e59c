//! The Converse request body, made from chat requests.

use serde_json::{json, Value};

use crate::chunk::{ThinkingBlock, ToolCall};
use crate::error::ErrorKind;
use crate::providers::bedrock::request::Request;
use crate::request::{
    ChatRequest, Image, Message, Reasoning, ReasoningEffort, ResponseFormat, Tool, ToolChoice,
};

fn body(request: &ChatRequest, model: &str) -> Value {
    serde_json::to_value(Request::from_chat(request, model).unwrap()).unwrap()
}

#[test]
fn a_plain_request_is_messages_system_and_inference_config() {
    let request = ChatRequest::new("Hello")
        .system("Be brief.")
        .temperature(0.2)
        .max_tokens(50)
        .stop(["END"]);
    assert_eq!(
        body(&request, "amazon.nova-micro-v1:0"),
        json!({
            "messages": [{"role": "user", "content": [{"text": "Hello"}]}],
            "system": [{"text": "Be brief."}],
            "inferenceConfig": {"maxTokens": 50, "temperature": 0.2f32, "stopSequences": ["END"]},
        })
    );
    // Nothing optional is sent when not set.
    assert_eq!(
        body(&ChatRequest::new("Hi").seed(7), "m"),
        json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}]})
    );
}

#[test]
fn a_tool_loop_alternates_turns_with_results_first() {
    let call = ToolCall::new("tooluse_1", "get_weather", json!({"city": "Paris"}));
    let mut assistant = Message::assistant("Let me look.");
    assistant.tool_calls = vec![call, ToolCall::new("tooluse_2", "noop", Value::Null)];
    let request = ChatRequest::default()
        .messages(vec![
            Message::system("System turn."),
            Message::user("Weather?"),
            assistant,
            Message::tool_result("tooluse_1", "get_weather", "18 °C"),
            Message::tool_result("tooluse_2", "noop", ""),
            Message::user("Thanks"),
        ])
        .tools(vec![Tool::new(
            "get_weather",
            "The weather in a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        )])
        .tool_choice(ToolChoice::Auto);
    let got = body(&request, "m");
    assert_eq!(got["system"], json!([{"text": "System turn."}]));
    assert_eq!(
        got["messages"],
        json!([
            {"role": "user", "content": [{"text": "Weather?"}]},
            {"role": "assistant", "content": [
                {"text": "Let me look."},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "tooluse_2", "name": "noop", "input": {}}},
            ]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "18 °C"}]}},
                {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": ""}]}},
                {"text": "Thanks"},
            ]},
        ])
    );
    assert_eq!(
        got["toolConfig"],
        json!({
            "tools": [{"toolSpec": {
                "name": "get_weather",
                "description": "The weather in a city",
                "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
            }}],
            "toolChoice": {"auto": {}},
        })
    );
}

#[test]
fn tool_choices_map_to_auto_any_and_tool() {
    let tools = vec![Tool::new("f", "", json!({"type": "object"}))];
    let with = |choice: Option<ToolChoice>| {
        let mut request = ChatRequest::new("Hi").tools(tools.clone());
        request.tool_choice = choice;
        body(&request, "m")["toolConfig"].clone()
    };
    let spec = json!([{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}]);
    assert_eq!(with(None), json!({"tools": spec}));
    assert_eq!(
        with(Some(ToolChoice::Required))["toolChoice"],
        json!({"any": {}})
    );
    assert_eq!(
        with(Some(ToolChoice::Tool("f".into())))["toolChoice"],
        json!({"tool": {"name": "f"}})
    );
    // No "none" in the API: the tools stay home, unless the conversation needs them.
    assert_eq!(with(Some(ToolChoice::None)), Value::Null);
    let mut assistant = Message::assistant("");
    assistant.tool_calls = vec![ToolCall::new("t1", "f", json!({}))];
    let request = ChatRequest::default()
        .messages(vec![
            Message::user("Hi"),
            assistant,
            Message::tool_result("t1", "f", "done"),
        ])
        .tools(tools.clone())
        .tool_choice(ToolChoice::None);
    assert_eq!(body(&request, "m")["toolConfig"], json!({"tools": spec}));
}

#[test]
fn images_are_bytes_or_s3_locations_and_web_urls_are_refused() {
    let request = ChatRequest::default().messages(vec![Message::user("What is it?")
        .image(Image::bytes("image/png", vec![1, 2, 3]))
        .image(Image::url("data:image/jpeg;base64,AAAA"))
        .image(Image::url("s3://bucket/cat.webp"))]);
    assert_eq!(
        body(&request, "m")["messages"][0]["content"],
        json!([
            {"image": {"format": "png", "source": {"bytes": "AQID"}}},
            {"image": {"format": "jpeg", "source": {"bytes": "AAAA"}}},
            {"image": {"format": "webp", "source": {"s3Location": {"uri": "s3://bucket/cat.webp"}}}},
            {"text": "What is it?"},
        ])
    );
    for image in [
        Image::url("https://example.com/cat.png"),
        Image::bytes("image/tiff", vec![0]),
    ] {
        let request = ChatRequest::default().messages(vec![Message::user("?").image(image)]);
        let err = Request::from_chat(&request, "m").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
        assert!(err.to_string().starts_with("bedrock"), "{err}");
    }
}

#[test]
fn reasoning_goes_where_the_model_takes_it() {
    let with = |reasoning: Reasoning, model: &str| {
        Request::from_chat(&ChatRequest::new("Hi").reasoning(reasoning), model)
            .map(|r| serde_json::to_value(r).unwrap())
    };
    let claude = with(
        Reasoning::Budget(2048),
        "us.anthropic.claude-sonnet-4-20250514-v1:0",
    )
    .unwrap();
    assert_eq!(
        claude["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}})
    );
    assert_eq!(claude["inferenceConfig"]["maxTokens"], 2048 + 4096);
    let nova = with(
        Reasoning::Effort(ReasoningEffort::High),
        "amazon.nova-2-lite-v1:0",
    )
    .unwrap();
    assert_eq!(
        nova["additionalModelRequestFields"],
        json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}})
    );
    for (reasoning, model) in [
        (
            Reasoning::Effort(ReasoningEffort::Low),
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
        ),
        (Reasoning::Budget(1024), "amazon.nova-micro-v1:0"),
        (Reasoning::On, "meta.llama3-8b-instruct-v1:0"),
    ] {
        let err = with(reasoning, model).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{model}: {err}");
    }
}

#[test]
fn reasoning_goes_back_with_its_signature_and_redacted_reasoning_as_it_came() {
    let mut assistant = Message::assistant("Answer.");
    assistant.reasoning.blocks = vec![
        ThinkingBlock::Thinking {
            thinking: "Hmm.".into(),
            signature: "sig".into(),
        },
        ThinkingBlock::RedactedThinking {
            data: "ZGF0YQ==".into(),
        },
    ];
    let request =
        ChatRequest::default().messages(vec![Message::user("Q"), assistant, Message::user("More")]);
    assert_eq!(
        body(&request, "m")["messages"][1]["content"],
        json!([
            {"reasoningContent": {"reasoningText": {"text": "Hmm.", "signature": "sig"}}},
            {"reasoningContent": {"redactedContent": "ZGF0YQ=="}},
            {"text": "Answer."},
        ])
    );
}

#[test]
fn structured_output_is_output_config_and_json_mode_an_instruction() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
    let request = ChatRequest::new("Hi")
        .response_format(ResponseFormat::json_schema("thing", schema.clone()));
    let got = body(&request, "m");
    assert_eq!(got["outputConfig"]["textFormat"]["type"], "json_schema");
    let sent = &got["outputConfig"]["textFormat"]["structure"]["jsonSchema"];
    assert_eq!(sent["name"], "thing");
    assert_eq!(
        serde_json::from_str::<Value>(sent["schema"].as_str().unwrap()).unwrap(),
        schema
    );
    let got = body(
        &ChatRequest::new("Hi").response_format(ResponseFormat::JsonObject),
        "m",
    );
    assert!(got["system"][0]["text"]
        .as_str()
        .unwrap()
        .contains("one JSON object"));
}

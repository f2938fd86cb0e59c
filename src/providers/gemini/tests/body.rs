//! The request: its path and key, the generation options, the conversation with its
//! images, tool calls, tool results and thought signatures, tools and their choice,
//! structured output and reasoning.

use super::*;
use crate::request::{
    Image, Message, Reasoning, ReasoningEffort, ResponseFormat, Role, Tool, ToolChoice,
};

#[test]
fn a_plain_request_has_only_its_contents() {
    assert_eq!(
        body_of(&ChatRequest::new("hi")),
        json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    );
}

#[test]
fn every_generation_option_goes_in_generation_config() {
    let request = ChatRequest::new("hi")
        .system("Be terse.")
        .temperature(0.5)
        .max_tokens(7)
        .stop(["x", "END"])
        .seed(3);
    assert_eq!(
        body_of(&request),
        json!({
            "systemInstruction": {"parts": [{"text": "Be terse."}]},
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "generationConfig": {
                "temperature": 0.5,
                "maxOutputTokens": 7,
                "stopSequences": ["x", "END"],
                "seed": 3
            }
        })
    );
}

#[test]
fn system_messages_join_the_system_instruction_and_leave_the_turns() {
    let request = ChatRequest::default().system("Be terse.").messages([
        Message::system("Answer in French."),
        Message::user("hi"),
        Message::system("  "),
        Message::system("Never apologize."),
    ]);
    let body = body_of(&request);
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "Be terse.\n\nAnswer in French.\n\nNever apologize."}]})
    );
    assert_eq!(
        body["contents"],
        json!([{"role": "user", "parts": [{"text": "hi"}]}])
    );
}

#[test]
fn a_conversation_alternates_user_and_model_turns() {
    let request = ChatRequest::default().messages([
        Message::user("My name is Ada."),
        Message::assistant("Nice to meet you, Ada."),
        Message::user("What is"),
        Message::user("my name?"),
        Message::assistant(""),
    ]);
    assert_eq!(
        body_of(&request)["contents"],
        json!([
            {"role": "user", "parts": [{"text": "My name is Ada."}]},
            {"role": "model", "parts": [{"text": "Nice to meet you, Ada."}]},
            // Two user turns in a row are one content; an empty turn is left out.
            {"role": "user", "parts": [{"text": "What is"}, {"text": "my name?"}]},
        ])
    );
}

#[test]
fn images_are_inline_data_or_file_data_before_the_text() {
    let request = ChatRequest::default().message(
        Message::user("What is in these?")
            .image(Image::bytes("image/png", b"foo".to_vec()))
            .image(Image::url("data:image/jpeg;base64,YmFy"))
            .image(Image::url("https://example.com/cat.JPG?size=large"))
            .image(Image::url("https://example.com/picture")),
    );
    assert_eq!(
        body_of(&request)["contents"][0]["parts"],
        json!([
            {"inlineData": {"mimeType": "image/png", "data": "Zm9v"}},
            {"inlineData": {"mimeType": "image/jpeg", "data": "YmFy"}},
            {"fileData": {"fileUri": "https://example.com/cat.JPG?size=large", "mimeType": "image/jpeg"}},
            {"fileData": {"fileUri": "https://example.com/picture"}},
            {"text": "What is in these?"},
        ])
    );
}

fn weather() -> Tool {
    Tool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

#[test]
fn tools_are_function_declarations_with_their_json_schema() {
    let request = ChatRequest::new("Weather?").tool(weather()).tool(Tool::new(
        "get_time",
        "",
        serde_json::Value::Null,
    ));
    let body = body_of(&request);
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations": [
            {
                "name": "get_weather",
                "description": "The weather in a city",
                "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
            },
            {"name": "get_time", "parametersJsonSchema": {"type": "object", "properties": {}}},
        ]}])
    );
    // No choice asked for: no toolConfig (AUTO is the API's default).
    assert!(body.get("toolConfig").is_none(), "{body}");
}

#[test]
fn the_tool_choice_is_the_function_calling_mode() {
    for (choice, config) in [
        (ToolChoice::Auto, json!({"mode": "AUTO"})),
        (ToolChoice::None, json!({"mode": "NONE"})),
        (ToolChoice::Required, json!({"mode": "ANY"})),
        (
            ToolChoice::Tool("get_weather".into()),
            json!({"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
        ),
    ] {
        let request = ChatRequest::new("Weather?")
            .tool(weather())
            .tool_choice(choice.clone());
        assert_eq!(
            body_of(&request)["toolConfig"],
            json!({ "functionCallingConfig": config }),
            "{choice:?}"
        );
    }
    // A choice without tools is not sent.
    let request = ChatRequest::new("hi").tool_choice(ToolChoice::Required);
    assert!(body_of(&request).get("toolConfig").is_none());
}

#[test]
fn tool_calls_and_results_go_back_by_name_and_id() {
    let calls = [
        ToolCall::new("call_1", "get_weather", json!({"city": "Paris"})),
        ToolCall::new("call_2", "get_time", serde_json::Value::Null),
    ];
    let request = ChatRequest::default().messages([
        Message::user("Weather and time in Paris?"),
        Message::assistant("Checking.").with_tool_calls(calls),
        Message::tool_result("call_1", "get_weather", "18 C and sunny"),
        // No name given: the name of the call it answers.
        Message {
            tool_call_id: Some("call_2".into()),
            ..Message::new(Role::Tool, r#"{"time": "12:00", "zone": "CET"}"#)
        },
        Message::user("Thanks."),
    ]);
    assert_eq!(
        body_of(&request)["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Weather and time in Paris?"}]},
            {"role": "model", "parts": [
                {"text": "Checking."},
                {"functionCall": {"id": "call_1", "name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"id": "call_2", "name": "get_time", "args": {}}},
            ]},
            // Both results in one content, before the text that follows them; a result
            // that is a JSON object is the response itself.
            {"role": "user", "parts": [
                {"functionResponse": {"id": "call_1", "name": "get_weather", "response": {"output": "18 C and sunny"}}},
                {"functionResponse": {"id": "call_2", "name": "get_time", "response": {"time": "12:00", "zone": "CET"}}},
                {"text": "Thanks."},
            ]},
        ])
    );
}

#[test]
fn a_tool_result_without_a_tool_name_is_refused_before_sending() {
    let request = ChatRequest::default().messages([
        Message::user("hi"),
        Message {
            tool_call_id: Some("call_9".into()),
            ..Message::new(Role::Tool, "42")
        },
    ]);
    let err = Request::from_chat(&request).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("call_9"), "{err}");
}

#[test]
fn thought_signatures_go_back_on_the_parts_they_came_with() {
    let mut turn = Message::assistant("Let me check.").with_tool_calls([
        ToolCall::new("call_a", "get_weather", json!({"city": "Oslo"})),
        ToolCall::new("call_b", "get_time", json!({})),
    ]);
    turn.reasoning.blocks = vec![
        signature("sig-thought", None, Some("I should call the tools.")),
        signature("sig-text", None, None),
        signature("sig-call-a", Some("call_a"), None),
        // Anthropic's blocks are not Gemini's to read.
        ThinkingBlock::RedactedThinking {
            data: "opaque".into(),
        },
    ];
    turn.reasoning.text = "unsigned reasoning text is not sent".into();
    let request = ChatRequest::default().messages([Message::user("Q?"), turn]);
    assert_eq!(
        body_of(&request)["contents"][1],
        json!({"role": "model", "parts": [
            {"text": "I should call the tools.", "thought": true, "thoughtSignature": "sig-thought"},
            {"text": "Let me check.", "thoughtSignature": "sig-text"},
            {"functionCall": {"id": "call_a", "name": "get_weather", "args": {"city": "Oslo"}}, "thoughtSignature": "sig-call-a"},
            {"functionCall": {"id": "call_b", "name": "get_time", "args": {}}},
        ]})
    );
}

#[test]
fn a_text_signature_without_text_goes_on_an_empty_text_part() {
    let mut turn = Message::assistant("");
    turn.reasoning.blocks = vec![signature("s1", None, None), signature("s2", None, None)];
    let request = ChatRequest::default().messages([Message::user("Q?"), turn]);
    assert_eq!(
        body_of(&request)["contents"][1]["parts"],
        json!([{"text": "", "thoughtSignature": "s1"}, {"text": "", "thoughtSignature": "s2"}])
    );
}

#[test]
fn structured_output_is_the_json_mime_type_with_the_schema() {
    let schema =
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
    let request = ChatRequest::new("Invent a person.")
        .response_format(ResponseFormat::json_schema("person", schema.clone()));
    assert_eq!(
        body_of(&request)["generationConfig"],
        json!({"responseMimeType": "application/json", "responseJsonSchema": schema})
    );
    // JSON mode: the MIME type alone (the API has it natively, no instruction needed).
    let request =
        ChatRequest::new("A JSON object, please.").response_format(ResponseFormat::JsonObject);
    let body = body_of(&request);
    assert_eq!(
        body["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
    assert!(body.get("systemInstruction").is_none());
    let request = ChatRequest::new("Text.").response_format(ResponseFormat::Text);
    assert!(body_of(&request).get("generationConfig").is_none());
}

#[test]
fn reasoning_is_the_thinking_config() {
    for (reasoning, config) in [
        (Reasoning::Off, json!({"thinkingBudget": 0})),
        (
            Reasoning::On,
            json!({"thinkingBudget": -1, "includeThoughts": true}),
        ),
        (
            Reasoning::Budget(2048),
            json!({"thinkingBudget": 2048, "includeThoughts": true}),
        ),
        (
            Reasoning::Effort(ReasoningEffort::Low),
            json!({"thinkingLevel": "LOW", "includeThoughts": true}),
        ),
        (
            Reasoning::Effort(ReasoningEffort::Medium),
            json!({"thinkingLevel": "MEDIUM", "includeThoughts": true}),
        ),
        (
            Reasoning::Effort(ReasoningEffort::High),
            json!({"thinkingLevel": "HIGH", "includeThoughts": true}),
        ),
    ] {
        let request = ChatRequest::new("Think.").reasoning(reasoning);
        assert_eq!(
            body_of(&request)["generationConfig"],
            json!({ "thinkingConfig": config }),
            "{reasoning}"
        );
    }
}

/// The provider with `key`, its requests as the kit sends them (the key added).
fn prepared(key: &str, model: &str) -> crate::error::Result<crate::kit::HttpRequest> {
    let llm = super::super::GeminiProvider::builder()
        .api_key(key)
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    llm.http.shared.prepared(&ChatRequest::new("hi"), model)
}

#[test]
fn the_path_names_the_model_safely_and_the_key_is_a_header() {
    let request = prepared("AIza-secret-key-0123456789", "gemini-2.5-flash").unwrap();
    assert_eq!(
        request.path(),
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(
        request.headers.get("x-goog-api-key").map(|v| v.as_bytes()),
        Some(b"AIza-secret-key-0123456789".as_slice())
    );
    assert!(request.headers["x-goog-api-key"].is_sensitive());
    assert_eq!(request.headers["accept"], "text/event-stream");
    assert!(!request.path().contains("key"));
    assert!(
        !format!("{request:?}").contains("secret-key"),
        "{request:?}"
    );
    // The API's own lists name models `models/…`.
    let request = prepared("k", "models/gemini-2.5-pro").unwrap();
    assert_eq!(
        request.path(),
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    );
    // No model name can add a segment, a query or a method.
    assert_eq!(
        path_segment("../x:generateContent?key=1#f é"),
        "..%2Fx%3AgenerateContent%3Fkey%3D1%23f%20%C3%A9"
    );
    // Without a key (a local server), no header.
    let request = prepared("", "m").unwrap();
    assert!(request.headers.get("x-goog-api-key").is_none());
    // A key HTTP cannot carry is refused without quoting it.
    let err = prepared("bad\nkey-secret", "m").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!err.to_string().contains("key-secret"), "{err}");
    assert!(err.to_string().contains("GEMINI_API_KEY"), "{err}");
}

#[test]
fn models_are_priced_from_the_gemini_table() {
    let llm = super::super::GeminiProvider::builder()
        .api_key("k")
        .build()
        .unwrap();
    assert_eq!(
        llm.http.shared.pricing("models/gemini-3.5-flash"),
        crate::pricing::PriceTable::gemini().pricing("gemini-3.5-flash")
    );
    assert_ne!(
        llm.http.shared.pricing("gemini-3.5-flash"),
        crate::pricing::Pricing::Unknown
    );
}

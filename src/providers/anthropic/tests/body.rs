//! The request body: system, turns, tool results, images, tools, structured output.

use super::*;

#[test]
fn request_body_has_exactly_the_options_set() {
    let req = ChatRequest::new("hi")
        .system("sys")
        .temperature(0.5)
        .max_tokens(7)
        .stop(["x"])
        .seed(3);
    assert_eq!(
        body_of(&req),
        json!({
            "model": "m",
            "max_tokens": 7,
            "system": "sys",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "temperature": 0.5,
            "stop_sequences": ["x"]
        })
    );
    // The API requires max_tokens: the provider's default when the request sets none.
    let v = body_of(&ChatRequest::new("hi"));
    assert_eq!(
        v,
        json!({"model": "m", "max_tokens": 4096, "messages": [{"role": "user", "content": "hi"}], "stream": true})
    );
}

#[test]
fn system_messages_are_folded_into_the_top_level_system() {
    let req = ChatRequest::default().system("Be terse.").messages([
        Message::system("Answer in French."),
        Message::user("hi"),
        Message::system("   "),
        Message::system("Never apologize."),
    ]);
    let v = body_of(&req);
    assert_eq!(
        v["system"],
        json!("Be terse.\n\nAnswer in French.\n\nNever apologize.")
    );
    assert_eq!(v["messages"], json!([{"role": "user", "content": "hi"}]));
}

#[test]
fn consecutive_turns_of_one_role_are_merged() {
    let req = ChatRequest::default().messages([
        Message::user("one"),
        Message::user("two"),
        Message::assistant("three"),
        Message::assistant(""),
        Message::user(""),
        Message::assistant("four"),
    ]);
    assert_eq!(
        body_of(&req)["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "three"}, {"type": "text", "text": "four"}]},
        ])
    );
}

#[test]
fn tool_results_are_one_user_turn_right_after_the_calls() {
    let mut assistant = Message::assistant("Checking both.").with_tool_calls([
        ToolCall::new("toolu_1", "get_weather", json!({"city": "Paris"})),
        ToolCall::new("toolu_2", "get_time", Value::Null),
    ]);
    assistant.reasoning.text = "thinking text".into();
    assistant.reasoning.blocks = vec![
        ThinkingBlock::Thinking {
            thinking: "Two tools.".into(),
            signature: "sig".into(),
        },
        ThinkingBlock::RedactedThinking {
            data: "opaque".into(),
        },
    ];
    let req = ChatRequest::default().messages([
        Message::user("Weather and time in Paris?"),
        assistant,
        Message::tool_result("toolu_1", "get_weather", "18 C"),
        Message::tool_result("toolu_2", "get_time", "12:00"),
        Message::user("Thanks; and tomorrow?"),
    ]);
    assert_eq!(
        body_of(&req)["messages"],
        json!([
            {"role": "user", "content": "Weather and time in Paris?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Two tools.", "signature": "sig"},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "12:00"},
                {"type": "text", "text": "Thanks; and tomorrow?"},
            ]},
        ])
    );
    // A result after text in the same turn still comes first.
    let req = ChatRequest::default().messages([
        Message::assistant("").with_tool_calls([ToolCall::new("t", "f", json!({}))]),
        Message::user("note"),
        Message::tool_result("t", "f", "done"),
    ]);
    assert_eq!(
        body_of(&req)["messages"][1]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "t", "content": "done"},
            {"type": "text", "text": "note"},
        ])
    );
}

#[test]
fn the_request_of_the_recorded_tool_result_turn() {
    // What the llama.cpp server accepted, made from a ChatRequest.
    let recorded: Value = serde_json::from_slice(&body("tool_result_turn_stream.request")).unwrap();
    let weather = Tool::new(
        "get_weather",
        "Get the weather for a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    );
    let req = ChatRequest::default()
        .tool(weather)
        .max_tokens(32)
        .temperature(0.0)
        .messages([
            Message::user("What is the weather in Paris?"),
            Message::assistant("").with_tool_calls([ToolCall::new(
                "toolu_01",
                "get_weather",
                json!({"city": "Paris"}),
            )]),
            Message::tool_result("toolu_01", "get_weather", "18 C and sunny"),
        ]);
    let mut ours =
        serde_json::to_value(request::Request::from_chat(&req, "smollm2", 4096).unwrap()).unwrap();
    let mut recorded = recorded;
    // 0 and 0.0 are different JSON values: compared apart.
    assert_eq!(
        ours.as_object_mut()
            .unwrap()
            .remove("temperature")
            .unwrap()
            .as_f64(),
        recorded
            .as_object_mut()
            .unwrap()
            .remove("temperature")
            .unwrap()
            .as_f64()
    );
    assert_eq!(ours, recorded);
}

#[test]
fn images_go_before_the_text_as_base64_or_url() {
    let req = ChatRequest::default().messages([Message::user("What is this?")
        .image(Image::bytes("image/png", b"foo".to_vec()))
        .image(Image::url("data:image/jpeg;base64,YmFy"))
        .image(Image::url("https://example.com/cat.jpg"))]);
    assert_eq!(
        body_of(&req)["messages"][0]["content"],
        json!([
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "Zm9v"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "YmFy"}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "text", "text": "What is this?"},
        ])
    );
    // A tool result with an image carries it in its content.
    let mut result = Message::tool_result("t", "screenshot", "here");
    result.images.push(Image::bytes("image/png", b"f".to_vec()));
    let req = ChatRequest::default().messages([result]);
    assert_eq!(
        body_of(&req)["messages"][0]["content"][0]["content"],
        json!([
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "Zg=="}},
            {"type": "text", "text": "here"},
        ])
    );
}

#[test]
fn tools_and_tool_choice() {
    let tool = Tool::new("get", "Get it", json!({"type": "object", "properties": {}}));
    for (choice, want) in [
        (ToolChoice::Auto, json!({"type": "auto"})),
        (ToolChoice::None, json!({"type": "none"})),
        (ToolChoice::Required, json!({"type": "any"})),
        (
            ToolChoice::Tool("get".into()),
            json!({"type": "tool", "name": "get"}),
        ),
    ] {
        let req = ChatRequest::new("x").tool(tool.clone()).tool_choice(choice);
        let v = body_of(&req);
        assert_eq!(v["tool_choice"], want);
        assert_eq!(
            v["tools"],
            json!([{"name": "get", "description": "Get it", "input_schema": {"type": "object", "properties": {}}}])
        );
    }
    // No tools: no tool choice (the API rejects one alone).
    let v = body_of(&ChatRequest::new("x").tool_choice(ToolChoice::None));
    assert!(v.get("tool_choice").is_none() && v.get("tools").is_none());
    // Strict tools say so; no description, no field.
    let strict = Tool::new(
        "s",
        "",
        json!({"type": "object", "properties": {"a": {"type": "string"}}}),
    )
    .strict();
    let v = body_of(&ChatRequest::new("x").tool(strict));
    assert_eq!(v["tools"][0]["strict"], json!(true));
    assert!(v["tools"][0].get("description").is_none());
}

#[test]
fn structured_output_uses_output_config_with_closed_objects() {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
            "either": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {}}]},
            "open": {"type": "object", "additionalProperties": false}
        },
        "required": ["name"],
        "$defs": {"P": {"type": "object", "properties": {"x": {"type": "number"}}}}
    });
    let req = ChatRequest::new("Invent one.")
        .response_format(ResponseFormat::json_schema("person", schema.clone()));
    let v = body_of(&req);
    let format = &v["output_config"]["format"];
    assert_eq!(format["type"], json!("json_schema"));
    let sent = &format["schema"];
    assert_eq!(sent["additionalProperties"], json!(false));
    assert_eq!(
        sent["required"],
        json!(["name"]),
        "required is left as it was"
    );
    assert_eq!(
        sent["properties"]["tags"]["items"]["additionalProperties"],
        json!(false)
    );
    assert_eq!(
        sent["properties"]["either"]["anyOf"][1]["additionalProperties"],
        json!(false)
    );
    assert_eq!(
        sent["properties"]["either"]["anyOf"][0],
        json!({"type": "string"})
    );
    assert_eq!(sent["$defs"]["P"]["additionalProperties"], json!(false));
    assert_eq!(sent["properties"]["name"], json!({"type": "string"}));
    assert!(v.get("system").is_none());
    assert_eq!(closed(&closed(&schema)), closed(&schema), "idempotent");
    assert_eq!(closed(&json!(true)), json!(true));

    // JSON mode has no native counterpart: an instruction in the system prompt.
    let req = ChatRequest::new("List three colors.")
        .system("Be brief.")
        .response_format(ResponseFormat::JsonObject);
    let v = body_of(&req);
    assert_eq!(
        v["system"],
        json!(format!("Be brief.\n\n{JSON_OBJECT_INSTRUCTION}"))
    );
    assert!(v.get("output_config").is_none());
    let v = body_of(&ChatRequest::new("x").response_format(ResponseFormat::Text));
    assert!(v.get("output_config").is_none() && v.get("system").is_none());
}

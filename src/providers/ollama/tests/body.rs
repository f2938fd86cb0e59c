//! The request body.

use super::*;

#[test]
fn request_body_maps_options_and_puts_the_system_prompt_first() {
    let req = ChatRequest::new("hi")
        .system("be brief")
        .temperature(0.5)
        .max_tokens(7)
        .stop(["\n\n", "END"])
        .seed(42);
    let keep = serde_json::json!("10m");
    let mut defaults = BTreeMap::new();
    defaults.insert("num_ctx".to_owned(), serde_json::json!(8192));
    defaults.insert("temperature".to_owned(), serde_json::json!(1.5)); // the request's wins
    let v =
        serde_json::to_value(request::Chat::new(&req, "smollm2", Some(&keep), &defaults).unwrap())
            .unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "model": "smollm2",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"}
            ],
            "stream": true,
            "options": {"temperature": 0.5, "num_predict": 7, "stop": ["\n\n", "END"], "seed": 42, "num_ctx": 8192},
            "keep_alive": "10m"
        })
    );
}

#[test]
fn unset_fields_are_absent_from_the_body() {
    let none = BTreeMap::new();
    let req = ChatRequest::new("hi");
    let json = serde_json::to_string(&request::Chat::new(&req, "m", None, &none).unwrap()).unwrap();
    assert_eq!(
        json,
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"#
    );

    let mut defaults = BTreeMap::new();
    defaults.insert("temperature".to_owned(), serde_json::json!(0));
    let v = serde_json::to_value(request::Chat::new(&req, "m", None, &defaults).unwrap()).unwrap();
    assert_eq!(v["options"], serde_json::json!({"temperature": 0}));
}

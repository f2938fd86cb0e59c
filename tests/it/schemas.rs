//! Structured output and required tool calls on the mock, against generated JSON
//! Schemas: nested objects, arrays, enums and consts, numeric bounds, string lengths,
//! nullable types, `anyOf`, `oneOf` (discriminated), `$defs`/`definitions` and `$ref`.
//! The value the mock makes must validate (testkit's validator) against the schema,
//! and against its strict form (`strict_schema`), which must keep OpenAI's strict rules.
//! Only the public API is used.

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use theory_llm::request::strict_schema;
use theory_llm::{
    ChatRequest, ErrorKind, LlmStreamProvider, MockProvider, ResponseFormat, Tool, ToolChoice,
};
use theory_llm_testkit::schema::validate;

// ---- generators ----

/// Property names: plain, with a space, non-ASCII, and one that looks like a keyword.
const NAMES: &[&str] = &["name", "age", "city", "tags", "a b", "é", "type", "n2"];
const WORDS: &[&str] = &["red", "green", "", "日本", "🦀", "a\"b"];

/// `{"type": t}`, or `{"type": [t, "null"]}`.
fn typed(t: &str, nullable: bool) -> Map<String, Value> {
    let mut map = Map::new();
    let ty = if nullable {
        json!([t, "null"])
    } else {
        json!(t)
    };
    map.insert("type".into(), ty);
    map
}

fn nullable() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.25)
}

fn string_schema() -> impl Strategy<Value = Value> {
    let lengths = (
        prop::option::of(0u64..5),
        prop::option::of(0u64..6),
        prop::option::of(prop::sample::select(vec!["date", "email", "uuid", "uri"])),
        nullable(),
    )
        .prop_map(|(min, extra, format, null)| {
            let mut map = typed("string", null);
            if let Some(min) = min {
                map.insert("minLength".into(), json!(min));
            }
            if let Some(extra) = extra {
                map.insert("maxLength".into(), json!(min.unwrap_or(0) + extra));
            }
            if let Some(format) = format {
                map.insert("format".into(), json!(format));
            }
            Value::Object(map)
        });
    let choices = (prop::sample::subsequence(WORDS, 1..4), nullable()).prop_map(|(words, null)| {
        let mut map = typed("string", null);
        map.insert("enum".into(), json!(words));
        Value::Object(map)
    });
    prop_oneof![
        4 => lengths,
        2 => choices,
        1 => prop::sample::select(WORDS).prop_map(|w| json!({"const": w})),
    ]
}

/// A bound: `(keyword, value)` with `exclusive` choosing the exclusive keyword.
fn bound(side: &str, exclusive: bool, at: f64) -> (String, Value) {
    let key = match (side, exclusive) {
        ("min", false) => "minimum",
        ("min", true) => "exclusiveMinimum",
        ("max", false) => "maximum",
        _ => "exclusiveMaximum",
    };
    let value = if at.fract() == 0.0 {
        json!(at as i64)
    } else {
        json!(at)
    };
    (key.to_owned(), value)
}

/// Integers and numbers with bounds that leave room for a value: whole bounds for
/// integers; whole or half bounds, at least 1 apart, for numbers.
fn numeric_schema() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        prop::option::of((-50i64..50, any::<bool>())),
        prop::option::of((1i64..20, any::<bool>())),
        any::<bool>(),
        nullable(),
    )
        .prop_map(|(integer, low, width, half, null)| {
            let mut map = typed(if integer { "integer" } else { "number" }, null);
            let shift = if half && !integer { 0.5 } else { 0.0 };
            let low = low.map(|(at, exclusive)| (at as f64 + shift, exclusive));
            if let Some((at, exclusive)) = low {
                let (k, v) = bound("min", exclusive, at);
                map.insert(k, v);
            }
            if let Some((width, exclusive)) = width {
                // With an exclusive bound on both sides, an integer needs a gap of 2.
                let base = low.map_or(0.0, |(at, _)| at);
                let gap = if integer && exclusive {
                    width + 1
                } else {
                    width
                };
                let (k, v) = bound("max", exclusive, base + gap as f64);
                map.insert(k, v);
            }
            Value::Object(map)
        })
}

fn leaf(refs: bool) -> BoxedStrategy<Value> {
    let reference = prop::sample::select(vec!["D0", "D1"])
        .prop_map(|d| json!({ "$ref": format!("#/@defs/{d}") }));
    prop_oneof![
        4 => string_schema(),
        4 => numeric_schema(),
        1 => nullable().prop_map(|null| Value::Object(typed("boolean", null))),
        1 => Just(json!({"type": "null"})),
        1 => Just(json!({"enum": ["a", 1, null, true]})),
        if refs { 2 } else { 0 } => reference,
    ]
    .boxed()
}

fn object_schema(inner: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map(prop::sample::select(NAMES), (inner, any::<bool>()), 0..4),
        prop::option::of(Just(false)),
        prop_oneof![3 => Just("object"), 1 => Just("nullable"), 1 => Just("untyped")],
        any::<bool>(),
    )
        .prop_map(|(fields, closed, style, keep_empty)| {
            let mut map = match style {
                "object" => typed("object", false),
                "nullable" => typed("object", true),
                _ => Map::new(),
            };
            let required: Vec<&str> = fields
                .iter()
                .filter(|(_, (_, required))| *required)
                .map(|(name, _)| *name)
                .collect();
            let properties: Map<String, Value> = fields
                .into_iter()
                .map(|(name, (schema, _))| (name.to_owned(), schema))
                .collect();
            // `{"type": "object"}` alone, now and then. (Not `{"type": ["object",
            // "null"]}` alone: strict_schema leaves it open, see
            // `strict_schemas_close_every_object_known_gaps`.)
            if !properties.is_empty() || keep_empty || style != "object" {
                map.insert("properties".into(), Value::Object(properties));
            }
            if !required.is_empty() {
                map.insert("required".into(), json!(required));
            }
            if let Some(closed) = closed {
                map.insert("additionalProperties".into(), json!(closed));
            }
            Value::Object(map)
        })
}

fn array_schema(inner: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    (
        inner,
        prop::option::of(0u64..4),
        prop::option::of(0u64..3),
        nullable(),
    )
        .prop_map(|(items, min, extra, null)| {
            let mut map = typed("array", null);
            map.insert("items".into(), items);
            if let Some(min) = min {
                map.insert("minItems".into(), json!(min));
            }
            if let Some(extra) = extra {
                map.insert("maxItems".into(), json!(min.unwrap_or(0) + extra));
            }
            Value::Object(map)
        })
}

fn any_of(inner: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(inner, 1..4),
        prop_oneof![Just("none"), Just("first"), Just("last")],
    )
        .prop_map(|(mut branches, null)| {
            match null {
                "first" => branches.insert(0, json!({"type": "null"})),
                "last" => branches.push(json!({"type": "null"})),
                _ => {}
            }
            json!({ "anyOf": branches })
        })
}

/// `oneOf` whose branches no value can match twice: leaves of different types, or
/// objects told apart by a `const` discriminator.
fn one_of(inner: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    let by_type =
        prop::sample::subsequence(vec!["string", "integer", "boolean", "null", "array"], 1..4)
            .prop_map(|types| {
                let branches: Vec<Value> = types
                    .into_iter()
                    .map(|t| match t {
                        "array" => json!({"type": "array", "items": {"type": "string"}}),
                        t => json!({ "type": t }),
                    })
                    .collect();
                json!({ "oneOf": branches })
            });
    let tagged = prop::collection::vec(inner, 1..4).prop_map(|payloads| {
        let branches: Vec<Value> = payloads
            .into_iter()
            .enumerate()
            .map(|(i, payload)| {
                json!({
                    "type": "object",
                    "properties": {"kind": {"const": format!("k{i}")}, "value": payload},
                    "required": ["kind", "value"],
                })
            })
            .collect();
        json!({ "oneOf": branches })
    });
    prop_oneof![by_type, tagged]
}

/// A schema of every kind, nested a few levels; with `refs`, leaves may point into
/// the root's definitions (`#/@defs/D0`, rewritten by [`schema`]).
fn node(refs: bool, depth: u32) -> BoxedStrategy<Value> {
    leaf(refs)
        .prop_recursive(depth, 24, 4, |inner| {
            prop_oneof![
                3 => object_schema(inner.clone()),
                2 => array_schema(inner.clone()),
                2 => any_of(inner.clone()),
                1 => one_of(inner),
            ]
        })
        .boxed()
}

/// Rewrites the placeholder `#/@defs/` of every `$ref` to `prefix`.
fn point_refs(schema: &mut Value, prefix: &str) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(r) if key == "$ref" => *r = r.replace("#/@defs/", prefix),
                    other => point_refs(other, prefix),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| point_refs(v, prefix)),
        _ => {}
    }
}

/// A whole schema: an object at the root (or a `$ref` to one), with two definitions
/// under `$defs` or `definitions` that its leaves may point to.
fn schema() -> impl Strategy<Value = Value> {
    (
        object_schema(node(true, 3)),
        node(false, 1),
        node(false, 1),
        prop::sample::select(vec!["$defs", "definitions"]),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(root, d0, d1, key, root_is_ref)| {
            let prefix = format!("#/{key}/");
            let mut defs = Map::new();
            defs.insert("D0".into(), d0);
            defs.insert("D1".into(), d1);
            let mut schema = if root_is_ref {
                defs.insert("Root".into(), root);
                json!({ "$ref": format!("{prefix}Root") })
            } else {
                root
            };
            schema[key] = Value::Object(defs);
            point_refs(&mut schema, &prefix);
            schema
        })
}

// ---- the mock, through the public API ----

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// The JSON reply of the mock asked for `format`.
fn structured(format: ResponseFormat) -> Value {
    let request = ChatRequest::new("x").response_format(format);
    let reply = block_on(MockProvider::new().chat(request)).expect("the mock replies");
    reply
        .json::<Value>()
        .unwrap_or_else(|e| panic!("the reply is not JSON: {e}\n{}", reply.text))
}

/// The arguments of the call the mock makes to a required tool with `parameters`.
fn required_call(parameters: Value) -> Value {
    let request = ChatRequest::new("x")
        .tool(Tool::new("t", "A tool", parameters))
        .tool_choice(ToolChoice::Required);
    let reply = block_on(MockProvider::new().chat(request)).expect("the mock replies");
    assert_eq!(reply.tool_calls.len(), 1, "{reply:?}");
    reply.tool_calls[0].arguments.clone()
}

fn valid(schema: &Value, value: &Value) -> Result<(), TestCaseError> {
    validate(schema, value).map_err(|e| {
        TestCaseError::fail(format!(
            "{e}\nschema: {}\nvalue: {value}",
            serde_json::to_string_pretty(schema).unwrap()
        ))
    })
}

/// Every object schema in `schema` (a node typed `object`, possibly nullable, or with
/// `properties`) is closed and requires every property: OpenAI's strict rules.
fn strict_rules(schema: &Value, path: &str) -> Result<(), String> {
    let Value::Object(map) = schema else {
        return Ok(());
    };
    let is_type = |t: &str| match map.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(list)) => list.iter().any(|v| v == t),
        _ => false,
    };
    if is_type("object") || map.contains_key("properties") {
        if map.get("additionalProperties") != Some(&json!(false)) {
            return Err(format!(
                "{path}: an object schema without additionalProperties: false"
            ));
        }
        let mut names: Vec<&String> = map
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        let mut required: Vec<&String> = map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect();
        names.sort();
        required.sort();
        if names != required {
            return Err(format!(
                "{path}: requires {required:?}, but its properties are {names:?}"
            ));
        }
    }
    for (key, value) in map {
        let at = format!("{path}/{key}");
        match key.as_str() {
            "properties" | "$defs" | "definitions" => {
                for (name, sub) in value.as_object().into_iter().flatten() {
                    strict_rules(sub, &format!("{at}/{name}"))?;
                }
            }
            "items" | "additionalProperties" | "not" => strict_rules(value, &at)?,
            "anyOf" | "oneOf" | "allOf" => {
                for (i, sub) in value.as_array().into_iter().flatten().enumerate() {
                    strict_rules(sub, &format!("{at}/{i}"))?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// 64 cases (a few seconds in all), or `PROPTEST_CASES` for a longer soak; failures
/// are not saved (a failure is pinned by a named test instead).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---- properties ----

proptest! {
    #![proptest_config(config())]

    #[test]
    fn structured_output_satisfies_the_schema(schema in schema()) {
        let value = structured(ResponseFormat::json_schema("s", schema.clone()));
        valid(&schema, &value)?;
    }

    #[test]
    fn structured_output_satisfies_the_strict_schema(schema in schema()) {
        let strict = strict_schema(&schema);
        prop_assert_eq!(strict_rules(&strict, "#"), Ok(()), "{}", strict);
        let value = structured(ResponseFormat::json_schema("s", strict.clone()));
        valid(&strict, &value)?;
        let value = structured(ResponseFormat::strict_json_schema("s", &schema));
        valid(&strict, &value)?;
    }

    #[test]
    fn a_required_tool_is_called_with_arguments_that_satisfy_its_schema(schema in schema()) {
        valid(&schema, &required_call(schema.clone()))?;
        let strict = Tool::new("t", "A tool", schema).strict().parameters;
        valid(&strict, &required_call(strict.clone()))?;
    }

    #[test]
    fn strict_schemas_keep_openais_rules_on_every_object(schema in schema()) {
        let strict = strict_schema(&schema);
        prop_assert_eq!(strict_rules(&strict, "#"), Ok(()), "{}", strict);
        // Idempotent.
        prop_assert_eq!(strict_schema(&strict), strict);
    }
}

// ---- the harness itself ----

#[test]
fn the_strict_rules_catch_an_open_or_partly_required_object() {
    let open =
        json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
    assert!(strict_rules(&open, "#").is_err());
    let partial = json!({"type": "object", "properties": {"a": {}, "b": {}}, "required": ["a"],
                         "additionalProperties": false});
    assert!(strict_rules(&partial, "#").is_err());
    let nested = json!({"type": "object", "properties": {}, "additionalProperties": false,
                        "$defs": {"X": {"type": ["object", "null"], "properties": {}}}});
    assert!(strict_rules(&nested, "#")
        .unwrap_err()
        .starts_with("#/$defs/X"));
    assert_eq!(strict_rules(&strict_schema(&open), "#"), Ok(()));
}

#[test]
fn the_validator_rejects_what_a_schema_like_the_generated_ones_forbids() {
    // The validator is not vacuous on these schemas: a number where an object with a
    // required property is expected fails.
    let schema =
        json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
    assert!(validate(&schema, &json!(1)).is_err());
    assert!(validate(&schema, &json!({})).is_err());
    assert!(validate(&schema, &json!({"a": "x"})).is_ok());
}

// ---- edge cases (found by the properties above and by probing their edges) ----
//
// Each entry is a minimal schema the mock (or strict_schema) once got wrong; the
// comments say what it did.

#[test]
fn mock_values_satisfy_edge_schemas() {
    let mut deep = json!({"type": "string"});
    for _ in 0..14 {
        deep = json!({"type": "object", "properties": {"x": deep}, "required": ["x"]});
    }
    let cases = [
        // An integer under a fractional upper bound, with no lower bound: ceil goes above
        // it (-1 for -1.5, 0 for -0.5).
        (
            "integer, fractional maximum",
            json!({"type": "integer", "maximum": -1.5}),
        ),
        // An exclusive lower bound is stepped by a fixed 1 (integer) or 0.5 (number),
        // past a close upper bound (4 for an integer in (2.5, 3]; 0.5 for (0, 0.25]).
        (
            "integer, exclusiveMinimum near maximum",
            json!({"type": "integer", "exclusiveMinimum": 2.5, "maximum": 3}),
        ),
        (
            "number, exclusiveMinimum near maximum",
            json!({"type": "number", "exclusiveMinimum": 0, "maximum": 0.25}),
        ),
        // `minimum` wins over `exclusiveMinimum` when both are given (0 for > 5).
        (
            "minimum and exclusiveMinimum",
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": 5}),
        ),
        // Draft 4 / OpenAPI 3.0 boolean `exclusiveMinimum` is ignored (0.0 for > 0).
        (
            "draft 4 exclusiveMinimum",
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true}),
        ),
        // allOf merges top-level keys with or_insert: the second branch's `properties`
        // are dropped, its `required` kept ({"a": "mock"}, no "b").
        (
            "allOf of two objects",
            json!({"type": "object", "allOf": [
            {"properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer"}}, "required": ["b"]}]}),
        ),
        // anyOf/oneOf are followed alone: sibling `type`/`properties` are ignored
        // ("mock" for an object schema whose anyOf only lists required sets).
        (
            "anyOf beside properties",
            json!({"type": "object",
            "properties": {"a": {"type": "string"}}, "anyOf": [{"required": ["a"]}]}),
        ),
        // Arrays always get at least one item, so recursion through an array never
        // ends but by `null` at depth 12 (a tree of children).
        (
            "recursive through an array",
            json!({"$ref": "#/$defs/T", "$defs": {"T": {
            "type": "object", "required": ["name", "children"], "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/T"}}}}}}),
        ),
        // Any schema nested deeper than 12 levels ends in `null`, recursive or not.
        ("14 nested objects", deep),
        // At most 16 items, whatever minItems says.
        (
            "minItems 20",
            json!({"type": "array", "items": {"type": "integer"}, "minItems": 20}),
        ),
        // No type: "mock", whatever maxLength says.
        ("untyped maxLength", json!({"maxLength": 2})),
        // Required names without properties: {}.
        (
            "required without properties",
            json!({"type": "object", "required": ["x"]}),
        ),
    ];
    let mut failures = Vec::new();
    for (what, schema) in cases {
        let value = structured(ResponseFormat::json_schema("s", schema.clone()));
        if let Err(e) = validate(&schema, &value) {
            failures.push(format!("{what}: {schema} -> {value}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn strict_schemas_handle_edge_objects() {
    let mut failures = Vec::new();
    // A nullable object without `properties` is not taken for an object (only
    // `"type": "object"` or `properties` are): left open, which OpenAI rejects.
    let schema = json!({"type": "object", "properties": {
        "meta": {"type": ["object", "null"]}}, "required": ["meta"]});
    if let Err(e) = strict_rules(&strict_schema(&schema), "#") {
        failures.push(format!("nullable object: {e}"));
    }
    // `required` without `properties` is kept: it requires a property no value may
    // have once the object is closed, so the strict schema admits nothing.
    let schema = json!({"type": "object", "required": ["x"]});
    if let Err(e) = strict_rules(&strict_schema(&schema), "#") {
        failures.push(format!("required without properties: {e}"));
    }
    // allOf branches are closed one by one, so no value can have the properties of
    // two branches: the strict form of a satisfiable schema admits nothing.
    let schema = json!({"type": "object", "allOf": [
        {"properties": {"a": {"type": "string"}}, "required": ["a"]},
        {"properties": {"b": {"type": "string"}}, "required": ["b"]}]});
    let strict = strict_schema(&schema);
    if validate(&strict, &json!({"a": "x", "b": "y"})).is_err()
        && validate(&schema, &json!({"a": "x", "b": "y"})).is_ok()
    {
        failures.push(format!("allOf: {strict} admits no value"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- the size of the mock's values (issue 24, item 15) ----

/// The mock's reply to a request for a value of `schema`, as structured output and as
/// a required tool's arguments; panics if either takes longer than `limit` (the thread
/// is left behind: the test fails instead of hanging).
fn mock_within(schema: &Value, limit: Duration) -> [theory_llm::Result<Value>; 2] {
    let (sender, receiver) = mpsc::channel();
    let asked = schema.clone();
    std::thread::spawn(move || {
        let schema = asked;
        let llm = MockProvider::new();
        let request =
            ChatRequest::new("x").response_format(ResponseFormat::json_schema("s", schema.clone()));
        let structured = block_on(llm.chat(request)).map(|reply| {
            reply
                .json::<Value>()
                .unwrap_or_else(|e| panic!("the reply is not JSON: {e}"))
        });
        let request = ChatRequest::new("x")
            .tool(Tool::new("t", "A tool", schema))
            .tool_choice(ToolChoice::Required);
        let called = block_on(llm.chat(request)).map(|reply| reply.tool_calls[0].arguments.clone());
        let _ = sender.send([structured, called]);
    });
    receiver
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("the mock ran for more than {limit:?} on {schema}"))
}

/// A chain of `levels` definitions, each an object requiring two properties that
/// refer to the next: 2^levels leaves from a schema of a few hundred bytes.
fn doubling_refs(levels: usize) -> Value {
    let mut defs = Map::new();
    for level in 0..levels {
        let next = json!({"$ref": format!("#/$defs/L{}", level + 1)});
        defs.insert(
            format!("L{level}"),
            json!({"type": "object", "properties": {"a": next, "b": next},
                   "required": ["a", "b"]}),
        );
    }
    defs.insert(format!("L{levels}"), json!({"type": "integer"}));
    json!({"$ref": "#/$defs/L0", "$defs": defs})
}

/// Issue 24, item 15: a 117-byte schema of nested `minItems` and `minLength` made the
/// mock run for minutes and take gigabytes. Past its bound (1 MiB of JSON, 64 levels)
/// the mock now refuses the request, within seconds, as an invalid request that names
/// the bound,
/// instead of running away or making a value that breaks the schema (it used to cut
/// strings at 4096 characters and arrays at 1024 items, and end deep nesting with
/// `null`).
#[test]
fn schemas_that_ask_for_huge_values_are_refused_quickly() {
    let string = |min: u64| json!({"type": "string", "minLength": min});
    let array = |min: u64, items: Value| json!({"type": "array", "minItems": min, "items": items});
    let required_forever = json!({"$ref": "#/$defs/T", "$defs": {"T": {"type": "object",
        "properties": {"next": {"$ref": "#/$defs/T"}}, "required": ["next"]}}});
    let cases = [
        (
            "1000 x 1000 x 1000 characters",
            array(1000, array(1000, string(1000))),
        ),
        (
            "100^4 integers",
            array(
                100,
                array(100, array(100, array(100, json!({"type": "integer"})))),
            ),
        ),
        ("a string of 10 million characters", string(10_000_000)),
        ("minLength u64::MAX", string(u64::MAX)),
        (
            "minItems u64::MAX",
            array(u64::MAX, json!({"type": "integer"})),
        ),
        ("2^30 leaves through $refs", doubling_refs(30)),
        (
            "a const repeated past the bound",
            array(100_000, json!({"const": "x".repeat(100)})),
        ),
        ("a required property that nests forever", required_forever),
    ];
    let mut failures = Vec::new();
    for (what, schema) in cases {
        // Each takes at most two seconds in a debug build on a busy 2-core machine.
        let results = mock_within(&schema, Duration::from_secs(30));
        for (how, result) in ["structured output", "tool call"].iter().zip(results) {
            match result {
                Err(e)
                    if e.kind() == ErrorKind::InvalidRequest
                        && e.message().starts_with("the schema asks for a value")
                        && e.message().contains("at most") => {}
                Err(e) => failures.push(format!("{what} ({how}): the wrong error: {e}")),
                Ok(value) => {
                    let size = value.to_string().len();
                    let failure = match validate(&schema, &value) {
                        Ok(()) => format!("{what} ({how}): a value of {size} bytes"),
                        Err(e) => {
                            format!("{what} ({how}): {size} bytes that break the schema: {e}")
                        }
                    };
                    failures.push(failure.chars().take(300).collect());
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Values under the bound are still made, whole: half a megabyte of strings, 10,000
/// integers, recursive schemas that end by the `null` they allow, 4096 leaves through
/// `$ref`s, and an object whose one property is optional and too large.
#[test]
fn large_values_under_the_bound_are_made_whole() {
    let linked_list = json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object",
        "properties": {"value": {"type": "integer"},
                       "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
        "required": ["value", "next"], "additionalProperties": false}}});
    let nullable_tree = json!({"$ref": "#/$defs/T", "$defs": {"T": {"type": ["object", "null"],
        "properties": {"left": {"$ref": "#/$defs/T"}, "right": {"$ref": "#/$defs/T"}},
        "required": ["left", "right"]}}});
    let cases = [
        json!({"type": "array", "minItems": 1000,
               "items": {"type": "string", "minLength": 500}}),
        json!({"type": "array", "minItems": 1000, "items": {"type": "array", "minItems": 10,
               "items": {"type": "integer", "minimum": 7}}}),
        linked_list,
        nullable_tree,
        doubling_refs(12),
        // Too large with every property, so made with the required ones only: {}.
        json!({"type": "object", "properties": {
            "big": {"type": "string", "minLength": 2_000_000}}}),
    ];
    for schema in cases {
        for result in mock_within(&schema, Duration::from_secs(30)) {
            let value = result.unwrap_or_else(|e| panic!("{schema}: {e}"));
            if let Err(e) = validate(&schema, &value) {
                panic!("{schema} -> {value}: {e}");
            }
        }
    }
}

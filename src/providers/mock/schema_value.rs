//! A deterministic JSON value that satisfies a JSON Schema: what the mock answers when
//! a request asks for structured output (or when it calls a tool by itself).
//!
//! It covers what structured output schemas use: `type` (one, or a list, of which the
//! first that is not `null`), `properties` (all of them), `items`, `minItems` and
//! `maxItems`, `enum`, `const`, `default`, `anyOf`/`oneOf` (the first branch that is not
//! `null`), `allOf` (merged), `$ref` into `$defs`/`definitions`, string lengths and
//! common formats, and numeric bounds.

use serde_json::{json, Map, Value};

/// How deep a schema is followed before `null` ends a recursive one.
const MAX_DEPTH: usize = 12;

/// A value satisfying `schema`.
pub(crate) fn value_for(schema: &Value) -> Value {
    generate(schema, schema, 0)
}

fn generate(schema: &Value, root: &Value, depth: usize) -> Value {
    let Value::Object(map) = schema else {
        // `true` or an empty schema allows anything.
        return json!("mock");
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(value) = map.get("const") {
        return value.clone();
    }
    if let Some(Value::Array(values)) = map.get("enum") {
        if let Some(first) = values.iter().find(|v| !v.is_null()).or(values.first()) {
            return first.clone();
        }
    }
    if let Some(value) = map.get("default") {
        return value.clone();
    }
    if let Some(Value::String(reference)) = map.get("$ref") {
        return match resolve(reference, root) {
            Some(target) => generate(target, root, depth + 1),
            None => Value::Null,
        };
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            let branch = branches
                .iter()
                .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                .or(branches.first());
            if let Some(branch) = branch {
                return generate(branch, root, depth + 1);
            }
        }
    }
    if let Some(Value::Array(parts)) = map.get("allOf") {
        let mut merged = map.clone();
        merged.remove("allOf");
        for part in parts {
            if let Value::Object(p) = part {
                for (k, v) in p {
                    merged.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        return generate(&Value::Object(merged), root, depth + 1);
    }
    match type_of(map).as_deref() {
        Some("object") => object(map, root, depth),
        Some("array") => array(map, root, depth),
        Some("string") => string(map),
        Some("integer") => integer(map),
        Some("number") => number(map),
        Some("boolean") => Value::Bool(true),
        Some("null") => Value::Null,
        _ => json!("mock"),
    }
}

/// The type to make: the schema's (the first that is not `null`, of a list), or
/// `object` for a schema with properties.
fn type_of(map: &Map<String, Value>) -> Option<String> {
    match map.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .or_else(|| types.iter().filter_map(Value::as_str).next())
            .map(str::to_owned),
        _ if map.contains_key("properties") => Some("object".to_owned()),
        _ if map.contains_key("items") => Some("array".to_owned()),
        _ => None,
    }
}

fn resolve<'a>(reference: &str, root: &'a Value) -> Option<&'a Value> {
    let path = reference.strip_prefix("#/")?;
    path.split('/').try_fold(root, |node, part| {
        node.get(part.replace("~1", "/").replace("~0", "~"))
    })
}

fn object(map: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let mut out = Map::new();
    if let Some(Value::Object(props)) = map.get("properties") {
        for (name, prop) in props {
            out.insert(name.clone(), generate(prop, root, depth + 1));
        }
    }
    Value::Object(out)
}

fn array(map: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(1);
    let max = map
        .get("maxItems")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let count = min.max(1).min(max).min(16);
    let item = map.get("items").cloned().unwrap_or(Value::Bool(true));
    Value::Array(
        (0..count)
            .map(|_| generate(&item, root, depth + 1))
            .collect(),
    )
}

fn string(map: &Map<String, Value>) -> Value {
    let base = match map.get("format").and_then(Value::as_str) {
        Some("date") => "2024-01-01",
        Some("date-time") => "2024-01-01T00:00:00Z",
        Some("time") => "00:00:00Z",
        Some("email") => "mock@example.com",
        Some("uri" | "url") => "https://example.com/mock",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        Some("ipv4") => "127.0.0.1",
        _ => "mock",
    };
    let min = map
        .get("minLength")
        .and_then(Value::as_u64)
        .map_or(0, |n| usize::try_from(n.min(4096)).unwrap_or(4096));
    let max = map
        .get("maxLength")
        .and_then(Value::as_u64)
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut text: String = base.chars().take(max).collect();
    while text.chars().count() < min {
        text.push('x');
    }
    Value::String(text)
}

/// The lower bound, else the upper one, else 0, kept inside both.
fn bounded(map: &Map<String, Value>, step: f64) -> f64 {
    let get = |k: &str| map.get(k).and_then(Value::as_f64);
    let low = get("minimum")
        .or_else(|| get("exclusiveMinimum").map(|m| m + step))
        .unwrap_or(f64::NEG_INFINITY);
    let high = get("maximum")
        .or_else(|| get("exclusiveMaximum").map(|m| m - step))
        .unwrap_or(f64::INFINITY);
    let mut value = if low.is_finite() {
        low
    } else {
        0.0_f64.min(high)
    };
    if let Some(multiple) = get("multipleOf").filter(|m| *m > 0.0) {
        value = (value / multiple).ceil() * multiple;
    }
    value
}

fn integer(map: &Map<String, Value>) -> Value {
    let value = bounded(map, 1.0).ceil();
    if value >= i64::MIN as f64 && value <= i64::MAX as f64 {
        json!(value as i64)
    } else {
        json!(0)
    }
}

fn number(map: &Map<String, Value>) -> Value {
    let value = bounded(map, 0.5);
    serde_json::Number::from_f64(value).map_or(json!(0), Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_schema() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 6},
                "age": {"type": "integer", "minimum": 18, "maximum": 99},
                "score": {"type": ["number", "null"], "exclusiveMinimum": 0},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 2},
                "kind": {"const": "person"},
                "when": {"type": "string", "format": "date"},
                "home": {"$ref": "#/$defs/Place"},
                "either": {"anyOf": [{"type": "null"}, {"type": "boolean"}]}
            },
            "$defs": {"Place": {"type": "object", "properties": {"city": {"type": "string"}}}}
        });
        assert_eq!(
            value_for(&schema),
            json!({"name": "mockxx", "age": 18, "score": 0.5, "tags": ["a", "a"], "kind": "person",
                   "when": "2024-01-01", "home": {"city": "mock"}, "either": true})
        );
        // Recursive schemas end.
        let tree = json!({"$ref": "#/$defs/T", "$defs": {"T": {"type": "object", "properties": {"child": {"$ref": "#/$defs/T"}}}}});
        assert!(value_for(&tree).is_object());
    }
}

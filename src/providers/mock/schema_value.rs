//! A deterministic JSON value that satisfies a JSON Schema: what the mock answers when
//! a request asks for structured output (or when it calls a tool by itself).
//!
//! It covers what structured output schemas use: `type` (one, or a list, of which the
//! first that is not `null`; implied by the keywords when absent), `properties` (all of
//! them) and `required`, `items`, `minItems` and `maxItems`, `enum`, `const`, `default`,
//! `anyOf`/`oneOf` (the first branch that is not `null`, with the schema's other
//! keywords), `allOf` (merged), `$ref` into `$defs`/`definitions` (recursion ends: past a
//! few levels only what is required is made), string lengths and common formats, and
//! numeric bounds of every draft.

use serde_json::{json, Map, Value};

use crate::request::merge_schema;

/// How many `$ref`s deep every property is made; deeper, only required ones (and the
/// fewest array items), so that a recursive schema ends.
const FULL_REF_DEPTH: usize = 3;
/// How deep a schema is followed at all: past it, `null` (a schema that requires
/// infinite nesting has no finite value).
const MAX_DEPTH: usize = 64;
/// The most array items made, whatever `minItems` says.
const MAX_ITEMS: u64 = 1024;

/// A value satisfying `schema`.
pub(crate) fn value_for(schema: &Value) -> Value {
    Generator { root: schema }.generate(schema, 0, 0)
}

struct Generator<'a> {
    root: &'a Value,
}

impl Generator<'_> {
    /// `depth` counts every level, `refs` the `$ref`s followed to get here.
    fn generate(&self, schema: &Value, depth: usize, refs: usize) -> Value {
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
            return match resolve(reference, self.root) {
                Some(target) => self.generate(target, depth + 1, refs + 1),
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
                    // The branch applies together with the schema's other keywords.
                    let mut merged = map.clone();
                    merged.remove("anyOf");
                    merged.remove("oneOf");
                    merge_schema(&mut merged, branch);
                    return self.generate(&Value::Object(merged), depth + 1, refs);
                }
            }
        }
        if let Some(Value::Array(parts)) = map.get("allOf") {
            let mut merged = map.clone();
            merged.remove("allOf");
            for part in parts {
                merge_schema(&mut merged, part);
            }
            return self.generate(&Value::Object(merged), depth + 1, refs);
        }
        match type_of(map).as_deref() {
            Some("object") => self.object(map, depth, refs),
            Some("array") => self.array(map, depth, refs),
            Some("string") => string(map),
            Some("integer") => integer(map),
            Some("number") => number(map),
            Some("boolean") => Value::Bool(true),
            Some("null") => Value::Null,
            _ => json!("mock"),
        }
    }

    fn object(&self, map: &Map<String, Value>, depth: usize, refs: usize) -> Value {
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(Value::Object(props)) = map.get("properties") {
            for (name, prop) in props {
                if refs <= FULL_REF_DEPTH || required.contains(&name.as_str()) {
                    out.insert(name.clone(), self.generate(prop, depth + 1, refs));
                }
            }
        }
        // Required names the schema gives no property for: `additionalProperties`
        // says what they may hold (anything, if it says nothing).
        for name in required {
            if !out.contains_key(name) {
                let extra = match map.get("additionalProperties") {
                    Some(schema @ Value::Object(_)) => self.generate(schema, depth + 1, refs),
                    _ => json!("mock"),
                };
                out.insert(name.to_owned(), extra);
            }
        }
        Value::Object(out)
    }

    fn array(&self, map: &Map<String, Value>, depth: usize, refs: usize) -> Value {
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = map
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        // One item shows the shape; inside a recursion, the fewest allowed end it.
        let wanted = if refs <= FULL_REF_DEPTH {
            min.max(1)
        } else {
            min
        };
        let count = wanted.min(max).min(MAX_ITEMS);
        let item = map.get("items").cloned().unwrap_or(Value::Bool(true));
        Value::Array(
            (0..count)
                .map(|_| self.generate(&item, depth + 1, refs))
                .collect(),
        )
    }
}

/// The type to make: the schema's (the first that is not `null`, of a list), else the
/// one its keywords imply.
fn type_of(map: &Map<String, Value>) -> Option<String> {
    let implied = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    match map.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .or_else(|| types.iter().filter_map(Value::as_str).next())
            .map(str::to_owned),
        _ if implied(&["properties", "required", "additionalProperties"]) => {
            Some("object".to_owned())
        }
        _ if implied(&["items", "minItems", "maxItems"]) => Some("array".to_owned()),
        _ if implied(&["minLength", "maxLength", "pattern", "format"]) => Some("string".to_owned()),
        _ if implied(&["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) => {
            Some("number".to_owned())
        }
        _ => None,
    }
}

fn resolve<'a>(reference: &str, root: &'a Value) -> Option<&'a Value> {
    let path = reference.strip_prefix("#/")?;
    path.split('/').try_fold(root, |node, part| {
        node.get(part.replace("~1", "/").replace("~0", "~"))
    })
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

/// A bound and whether it is exclusive.
type Bound = Option<(f64, bool)>;

/// The tightest lower and upper bounds, from `minimum`/`maximum`, numeric
/// `exclusiveMinimum`/`exclusiveMaximum` (draft 6 on), or the boolean ones of draft 4
/// and OpenAPI 3.0 that make `minimum`/`maximum` exclusive.
fn bounds(map: &Map<String, Value>) -> (Bound, Bound) {
    let number = |k: &str| map.get(k).and_then(Value::as_f64).filter(|n| n.is_finite());
    let flag = |k: &str| map.get(k).and_then(Value::as_bool) == Some(true);
    let mut low = number("minimum").map(|m| (m, flag("exclusiveMinimum")));
    if let Some(e) = number("exclusiveMinimum") {
        if low.is_none_or(|(m, _)| e >= m) {
            low = Some((e, true));
        }
    }
    let mut high = number("maximum").map(|m| (m, flag("exclusiveMaximum")));
    if let Some(e) = number("exclusiveMaximum") {
        if high.is_none_or(|(m, _)| e <= m) {
            high = Some((e, true));
        }
    }
    (low, high)
}

/// The multiple of `multipleOf` nearest above `value`, if it is still at most `high`.
fn multiple_above(map: &Map<String, Value>, value: f64, high: f64) -> f64 {
    match map.get("multipleOf").and_then(Value::as_f64) {
        Some(m) if m > 0.0 && m.is_finite() => {
            let candidate = (value / m).ceil() * m;
            if candidate <= high {
                candidate
            } else {
                value
            }
        }
        _ => value,
    }
}

fn integer(map: &Map<String, Value>) -> Value {
    let (low, high) = bounds(map);
    let low = match low {
        Some((l, true)) => l.floor() + 1.0,
        Some((l, false)) => l.ceil(),
        None => f64::NEG_INFINITY,
    };
    let high = match high {
        Some((h, true)) => h.ceil() - 1.0,
        Some((h, false)) => h.floor(),
        None => f64::INFINITY,
    };
    let value = if low.is_finite() {
        low
    } else {
        0.0_f64.min(high)
    };
    let value = multiple_above(map, value, high);
    if value >= i64::MIN as f64 && value <= i64::MAX as f64 {
        json!(value as i64)
    } else {
        json!(0)
    }
}

fn number(map: &Map<String, Value>) -> Value {
    let (low, high) = bounds(map);
    let top = high.map_or(f64::INFINITY, |(h, _)| h);
    // A step past an exclusive bound that stays inside the other one.
    let step = |from: f64| {
        if top.is_finite() {
            ((top - from) / 2.0).min(0.5)
        } else {
            0.5
        }
    };
    let value = match (low, high) {
        (Some((l, false)), _) => l,
        (Some((l, true)), _) => l + step(l),
        (None, Some((h, true))) => (h - 1.0).min(0.0),
        (None, Some((h, false))) => h.min(0.0),
        (None, None) => 0.0,
    };
    let value = multiple_above(map, value, top);
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

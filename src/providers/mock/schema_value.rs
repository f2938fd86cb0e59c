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
//!
//! The value is bounded ([`value_budget`](super::value_budget)): when the full value
//! passes the bound, the smallest one is tried (required properties only, the fewest
//! items, `null` wherever allowed), and when that passes it too the request fails.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::request::merge_schema;

use super::schema_numbers::{integer, number};
use super::value_budget::{Bound, Budget, MAX_DEPTH};

/// How many `$ref`s deep every property is made; deeper, only required ones (and the
/// fewest array items, and `null` where allowed), so that a recursive schema ends.
const FULL_REF_DEPTH: usize = 3;

/// What a schema without keywords (or `true`) gets, and the items of an array without
/// `items`.
static ANYTHING: Value = Value::Bool(true);

/// A value satisfying `schema`, or an invalid-request error naming the bound the
/// schema asks the mock to pass.
pub(crate) fn value_for(schema: &Value) -> Result<Value, Error> {
    let mut generator = Generator::new(schema);
    match generator.generate(schema, 0, 0) {
        Ok(value) => return Ok(value),
        // The smallest value would be the same, and fail the same way.
        Err(unmade) if !generator.more_than_required => return Err(unmade.error()),
        Err(_) => {}
    }
    generator.smallest = true;
    generator.budget = Budget::new();
    generator.generate(schema, 0, 0).map_err(Bound::error)
}

struct Generator<'a> {
    root: &'a Value,
    /// Make the smallest value everywhere, not only deep in a recursion.
    smallest: bool,
    /// Something the schema allows but does not require was made: an optional
    /// property, an array item past `minItems`, something else where `null` would do.
    more_than_required: bool,
    budget: Budget,
    /// Schemas merged with an `anyOf`/`oneOf` branch (by its index) or their `allOf`
    /// (`usize::MAX`), by the schema's address: merged once, however many array items
    /// use them.
    merged: HashMap<(*const Map<String, Value>, usize), Rc<Value>>,
}

impl<'a> Generator<'a> {
    fn new(root: &'a Value) -> Generator<'a> {
        Generator {
            root,
            smallest: false,
            more_than_required: false,
            budget: Budget::new(),
            merged: HashMap::new(),
        }
    }

    /// `depth` counts every level, `refs` the `$ref`s followed to get here.
    fn generate(&mut self, schema: &Value, depth: usize, refs: usize) -> Result<Value, Bound> {
        self.budget.steps(1)?;
        let Value::Object(map) = schema else {
            // `true` or an empty schema allows anything.
            return self.made(json!("mock"));
        };
        if depth > MAX_DEPTH {
            return Err(Bound::Depth);
        }
        let smallest = self.smallest || refs > FULL_REF_DEPTH;
        if let Some(value) = map.get("const") {
            return self.copy(value);
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            let at = values.iter().position(|v| !v.is_null());
            self.budget.steps(at.map_or(values.len(), |at| at + 1))?;
            if let Some(first) = values.get(at.unwrap_or(0)) {
                return self.copy(first);
            }
        }
        if let Some(value) = map.get("default") {
            return self.copy(value);
        }
        if let Some(Value::String(reference)) = map.get("$ref") {
            self.budget.steps(reference.len())?;
            return match resolve(reference, self.root) {
                Some(target) => self.generate(target, depth + 1, refs + 1),
                None => self.made(Value::Null),
            };
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = map.get(key) {
                self.budget.steps(branches.len())?;
                let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
                let chosen = branches
                    .iter()
                    .enumerate()
                    .find(|(_, b)| is_null(b) == smallest)
                    .or(branches.first().map(|b| (0, b)));
                if let Some((at, branch)) = chosen {
                    if !smallest && branches.iter().any(is_null) {
                        self.more_than_required = true;
                    }
                    // The branch applies together with the schema's other keywords.
                    let merged = self.merged(map, at, |merged| {
                        merged.remove("anyOf");
                        merged.remove("oneOf");
                        merge_schema(merged, branch);
                    });
                    return self.generate(&merged, depth + 1, refs);
                }
            }
        }
        if let Some(Value::Array(parts)) = map.get("allOf") {
            self.budget.steps(parts.len())?;
            let merged = self.merged(map, usize::MAX, |merged| {
                merged.remove("allOf");
                for part in parts {
                    merge_schema(merged, part);
                }
            });
            return self.generate(&merged, depth + 1, refs);
        }
        if let Some(Value::Array(types)) = map.get("type") {
            self.budget.steps(types.len())?;
            if !smallest && types.iter().any(|t| t == "null") {
                self.more_than_required = true;
            }
        }
        match type_of(map, smallest).as_deref() {
            Some("object") => self.object(map, depth, refs, smallest),
            Some("array") => self.array(map, depth, refs, smallest),
            Some("string") => self.string(map),
            Some("integer") => self.made(integer(map)),
            Some("number") => self.made(number(map)),
            Some("boolean") => self.made(Value::Bool(true)),
            Some("null") => self.made(Value::Null),
            _ => self.made(json!("mock")),
        }
    }

    /// `map` with `merge` applied, made the first time it is asked for.
    fn merged(
        &mut self,
        map: &Map<String, Value>,
        branch: usize,
        merge: impl FnOnce(&mut Map<String, Value>),
    ) -> Rc<Value> {
        let key = (std::ptr::from_ref(map), branch);
        self.merged
            .entry(key)
            .or_insert_with(|| {
                let mut merged = map.clone();
                merge(&mut merged);
                Rc::new(Value::Object(merged))
            })
            .clone()
    }

    fn object(
        &mut self,
        map: &Map<String, Value>,
        depth: usize,
        refs: usize,
        smallest: bool,
    ) -> Result<Value, Bound> {
        self.budget.bytes("{}".len())?;
        let required = map
            .get("required")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        self.budget.steps(required.len())?;
        let properties = map.get("properties").and_then(Value::as_object);
        let mut out = Map::new();
        if let (false, Some(properties)) = (smallest, properties) {
            let required: HashSet<&str> = required.iter().filter_map(Value::as_str).collect();
            for (name, schema) in properties {
                if !required.contains(name.as_str()) {
                    self.more_than_required = true;
                }
                self.member(&mut out, name, schema, depth, refs)?;
            }
        }
        // Required names the schema gives no property for: `additionalProperties`
        // says what they may hold (anything, if it says nothing).
        let additional = match map.get("additionalProperties") {
            Some(schema @ Value::Object(_)) => schema,
            _ => &ANYTHING,
        };
        for name in required.iter().filter_map(Value::as_str) {
            if !out.contains_key(name) {
                let schema = properties.and_then(|p| p.get(name)).unwrap_or(additional);
                self.member(&mut out, name, schema, depth, refs)?;
            }
        }
        Ok(Value::Object(out))
    }

    /// One more property of an object: its value, key, colon and comma counted.
    fn member(
        &mut self,
        out: &mut Map<String, Value>,
        name: &str,
        schema: &Value,
        depth: usize,
        refs: usize,
    ) -> Result<(), Bound> {
        let separators = if out.is_empty() { ":" } else { ",:" };
        self.budget.bytes(separators.len())?;
        self.budget.json(name)?;
        let value = self.generate(schema, depth + 1, refs)?;
        out.insert(name.to_owned(), value);
        Ok(())
    }

    fn array(
        &mut self,
        map: &Map<String, Value>,
        depth: usize,
        refs: usize,
        smallest: bool,
    ) -> Result<Value, Bound> {
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = map
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        // One item shows the shape; the smallest value has the fewest allowed.
        let wanted = if smallest { min } else { min.max(1) };
        // Each item takes a byte and a comma at least: a count past the bound fails
        // before any is made.
        let count = usize::try_from(wanted.min(max))
            .ok()
            .filter(|&n| self.budget.fits(n.saturating_mul(2).saturating_add(1)))
            .ok_or(Bound::Bytes)?;
        if u64::try_from(count).is_ok_and(|count| count > min) {
            self.more_than_required = true;
        }
        self.budget.bytes("[]".len())?;
        let item = map.get("items").unwrap_or(&ANYTHING);
        let mut items = Vec::with_capacity(count);
        for at in 0..count {
            if at > 0 {
                self.budget.bytes(",".len())?;
            }
            items.push(self.generate(item, depth + 1, refs)?);
        }
        Ok(Value::Array(items))
    }

    fn string(&mut self, map: &Map<String, Value>) -> Result<Value, Bound> {
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
        let length = |key: &str| {
            map.get(key)
                .and_then(Value::as_u64)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let mut text: String = base
            .chars()
            .take(length("maxLength").unwrap_or(usize::MAX))
            .collect();
        // One byte a character: the base is ASCII, and so is the padding.
        let chars = text.len().max(length("minLength").unwrap_or(0));
        // Counted before it is made: a `minLength` of billions fails here.
        self.budget.bytes(chars.saturating_add("\"\"".len()))?;
        text.extend(std::iter::repeat_n('x', chars - text.len()));
        Ok(Value::String(text))
    }

    /// `value`, copied from the schema, counted.
    fn copy(&mut self, value: &Value) -> Result<Value, Bound> {
        self.budget.json(value)?;
        Ok(value.clone())
    }

    /// `value`, made here, counted.
    fn made(&mut self, value: Value) -> Result<Value, Bound> {
        self.budget.json(&value)?;
        Ok(value)
    }
}

/// The type to make: the schema's (the first that is not `null` of a list, or `null`
/// if it is there and the value is to be the `smallest`), else the one its keywords
/// imply.
fn type_of(map: &Map<String, Value>, smallest: bool) -> Option<String> {
    let implied = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    match map.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| (*t == "null") == smallest)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::mock::value_budget::MAX_VALUE_BYTES;

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
            value_for(&schema).unwrap(),
            json!({"name": "mockxx", "age": 18, "score": 0.5, "tags": ["a", "a"], "kind": "person",
                   "when": "2024-01-01", "home": {"city": "mock"}, "either": true})
        );
        // Recursive schemas end.
        let tree = json!({"$ref": "#/$defs/T", "$defs": {"T": {"type": "object", "properties": {"child": {"$ref": "#/$defs/T"}}}}});
        assert!(value_for(&tree).unwrap().is_object());
    }

    #[test]
    fn the_bytes_counted_are_the_bytes_of_the_json() {
        let schemas = [
            json!({"type": "array", "minItems": 3, "items": {"type": "object",
                   "properties": {"é\"\n": {"type": "number", "exclusiveMinimum": 0},
                                  "b": {"type": ["null", "boolean"]}},
                   "required": ["x", "b"]}}),
            json!({"anyOf": [{"type": "null"}, {"type": "array", "items": {"const": {"k": [1, "é"]}}}]}),
            json!({"type": "object", "properties": {"d": {"type": "string", "format": "date-time"},
                   "n": {"type": "integer", "minimum": -12345}, "e": {"enum": [null, 2.5]},
                   "s": {"type": "string", "minLength": 70}}}),
            json!({}),
            json!({"type": "array", "maxItems": 0}),
        ];
        for schema in schemas {
            let mut generator = Generator::new(&schema);
            let value = generator.generate(&schema, 0, 0).unwrap();
            assert_eq!(generator.budget.spent(), value.to_string().len(), "{value}");
        }
    }

    #[test]
    fn a_value_of_exactly_the_bound_is_made_and_one_byte_more_is_not() {
        let string = |length: usize| json!({"type": "string", "minLength": length});
        let value = value_for(&string(MAX_VALUE_BYTES - 2)).unwrap();
        assert_eq!(value.to_string().len(), MAX_VALUE_BYTES);
        let error = value_for(&string(MAX_VALUE_BYTES - 1)).unwrap_err();
        assert_eq!(error.kind(), crate::error::ErrorKind::InvalidRequest);
        assert!(error.message().contains("at most 1048576 bytes"), "{error}");
    }

    #[test]
    fn a_long_list_read_for_every_item_runs_out_of_steps() {
        // 200,000 items of 2 bytes, but each reads 100 `null`s first.
        let mut choices = vec![Value::Null; 100];
        choices.push(json!(1));
        let schema = json!({"type": "array", "minItems": 200_000, "items": {"enum": choices}});
        let error = value_for(&schema).unwrap_err();
        assert!(error.message().contains("steps"), "{error}");
        // The same items, found at once, are made.
        let schema = json!({"type": "array", "minItems": 200_000, "items": {"enum": [1]}});
        assert_eq!(
            value_for(&schema).unwrap().as_array().map(Vec::len),
            Some(200_000)
        );
    }

    #[test]
    fn past_the_bound_the_smallest_value_is_made() {
        // Every property is 600 KB: both are too much, the required one alone is not.
        let big = json!({"type": "string", "minLength": 600_000});
        let schema = json!({"type": "object", "properties": {"a": big, "b": big},
                            "required": ["b"]});
        let value = value_for(&schema).unwrap();
        assert_eq!(value.as_object().unwrap().keys().collect::<Vec<_>>(), ["b"]);
        // `null` where it is allowed, and no items where none are required.
        let schema = json!({"type": "array", "items": {"anyOf": [big, {"type": "null"}]},
                            "minItems": 2});
        assert_eq!(value_for(&schema).unwrap(), json!([null, null]));
    }
}

//! A small JSON Schema validator, to check that values made for a schema (the mock's
//! structured output and tool arguments) satisfy it.
//!
//! It covers what structured output and tool schemas use: `type` (a name or a list of
//! names; `integer` is any whole number, `1.0` included), `properties`, `required`,
//! `additionalProperties` (`false`, or a schema for the other properties), `items` (a
//! schema, or a list of them for positions), `minItems`/`maxItems`, `enum`, `const`
//! (numbers compare by value: `1` equals `1.0`), `minimum`/`maximum`,
//! `exclusiveMinimum`/`exclusiveMaximum` (numbers, or draft 4's booleans),
//! `multipleOf`, `minLength`/`maxLength` (in characters), `anyOf` (at least one
//! branch), `oneOf` (exactly one), `allOf`, `not`, and `$ref` to `#` or a JSON pointer
//! into the root schema (`#/$defs/...`, `#/definitions/...`), resolved against the
//! root. Siblings of a `$ref` apply too (as in draft 2019-09 and later). Keywords it
//! does not know (`format`, `pattern`, `description`, ...) are ignored; a malformed
//! schema (an unknown type name, a `$ref` that points nowhere) is an error.

use serde_json::{Map, Value};

/// How many `$ref`s and combinators may nest before a schema is taken to loop.
const MAX_DEPTH: usize = 256;

/// Checks `value` against `schema`.
///
/// # Errors
/// The first failure: the JSON path of the value that failed (`$` is the whole value;
/// `$.a[0]`) and what failed, e.g. `$.age: 17 is less than the minimum 18`.
pub fn validate(schema: &Value, value: &Value) -> Result<(), String> {
    Validator { root: schema }.check(schema, value, "$", 0)
}

struct Validator<'a> {
    root: &'a Value,
}

impl Validator<'_> {
    fn check(&self, schema: &Value, value: &Value, path: &str, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "{path}: the schema nests more than {MAX_DEPTH} references or combinators deep (a loop?)"
            ));
        }
        let map = match schema {
            Value::Bool(true) => return Ok(()),
            Value::Bool(false) => return Err(format!("{path}: the schema `false` allows nothing")),
            Value::Object(map) => map,
            other => return Err(format!("{path}: the schema {other} is not a schema")),
        };
        if let Some(reference) = map.get("$ref") {
            let target = reference
                .as_str()
                .and_then(|r| resolve(r, self.root))
                .ok_or_else(|| format!("{path}: the $ref {reference} points nowhere"))?;
            self.check(target, value, path, depth + 1)?;
        }
        if let Some(types) = map.get("type") {
            check_type(types, value, path)?;
        }
        if let Some(allowed) = map.get("enum") {
            let Value::Array(allowed) = allowed else {
                return Err(format!("{path}: the enum {allowed} is not a list"));
            };
            if !allowed.iter().any(|a| same(a, value)) {
                return Err(format!(
                    "{path}: {} is not one of the enum values {}",
                    short(value),
                    short(&Value::Array(allowed.clone()))
                ));
            }
        }
        if let Some(constant) = map.get("const") {
            if !same(constant, value) {
                return Err(format!(
                    "{path}: {} is not the const {}",
                    short(value),
                    short(constant)
                ));
            }
        }
        match value {
            Value::Number(n) => number(map, n.as_f64().unwrap_or(f64::NAN), value, path)?,
            Value::String(s) => string(map, s, path)?,
            Value::Array(items) => self.array(map, items, path, depth)?,
            Value::Object(fields) => self.object(map, fields, path, depth)?,
            Value::Null | Value::Bool(_) => {}
        }
        self.combinators(map, value, path, depth)
    }

    fn combinators(
        &self,
        map: &Map<String, Value>,
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Result<(), String> {
        let branches = |key: &str| -> Result<Option<&Vec<Value>>, String> {
            match map.get(key) {
                None => Ok(None),
                Some(Value::Array(b)) => Ok(Some(b)),
                Some(other) => Err(format!("{path}: the {key} {other} is not a list")),
            }
        };
        if let Some(parts) = branches("allOf")? {
            for (i, part) in parts.iter().enumerate() {
                self.check(part, value, path, depth + 1)
                    .map_err(|e| format!("{path}: allOf branch {i} fails: {e}"))?;
            }
        }
        if let Some(parts) = branches("anyOf")? {
            let mut errors = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                match self.check(part, value, path, depth + 1) {
                    Ok(()) => break,
                    Err(e) => errors.push(format!("{i}: {e}")),
                }
            }
            if errors.len() == parts.len() {
                return Err(format!(
                    "{path}: {} matches none of the anyOf branches ({})",
                    short(value),
                    errors.join("; ")
                ));
            }
        }
        if let Some(parts) = branches("oneOf")? {
            let mut matched = Vec::new();
            let mut errors = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                match self.check(part, value, path, depth + 1) {
                    Ok(()) => matched.push(i),
                    Err(e) => errors.push(format!("{i}: {e}")),
                }
            }
            match matched.len() {
                1 => {}
                0 => {
                    return Err(format!(
                        "{path}: {} matches none of the oneOf branches ({})",
                        short(value),
                        errors.join("; ")
                    ))
                }
                _ => {
                    return Err(format!(
                        "{path}: {} matches oneOf branches {matched:?}, not exactly one",
                        short(value)
                    ))
                }
            }
        }
        if let Some(not) = map.get("not") {
            if self.check(not, value, path, depth + 1).is_ok() {
                return Err(format!(
                    "{path}: {} matches the schema under `not`",
                    short(value)
                ));
            }
        }
        Ok(())
    }

    fn array(
        &self,
        map: &Map<String, Value>,
        items: &[Value],
        path: &str,
        depth: usize,
    ) -> Result<(), String> {
        if let Some(min) = count(map, "minItems", path)? {
            if items.len() < min {
                return Err(format!(
                    "{path}: the array has {} items, fewer than minItems {min}",
                    items.len()
                ));
            }
        }
        if let Some(max) = count(map, "maxItems", path)? {
            if items.len() > max {
                return Err(format!(
                    "{path}: the array has {} items, more than maxItems {max}",
                    items.len()
                ));
            }
        }
        match map.get("items") {
            None => {}
            Some(Value::Array(positions)) => {
                for (i, (schema, item)) in positions.iter().zip(items).enumerate() {
                    self.check(schema, item, &format!("{path}[{i}]"), depth + 1)?;
                }
            }
            Some(schema) => {
                for (i, item) in items.iter().enumerate() {
                    self.check(schema, item, &format!("{path}[{i}]"), depth + 1)?;
                }
            }
        }
        Ok(())
    }

    fn object(
        &self,
        map: &Map<String, Value>,
        fields: &Map<String, Value>,
        path: &str,
        depth: usize,
    ) -> Result<(), String> {
        let empty = Map::new();
        let properties = match map.get("properties") {
            None => &empty,
            Some(Value::Object(p)) => p,
            Some(other) => return Err(format!("{path}: the properties {other} are not an object")),
        };
        match map.get("required") {
            None => {}
            Some(Value::Array(names)) => {
                for name in names {
                    let name = name.as_str().ok_or_else(|| {
                        format!("{path}: the required name {name} is not a string")
                    })?;
                    if !fields.contains_key(name) {
                        return Err(format!("{path}: the required property {name:?} is missing"));
                    }
                }
            }
            Some(other) => return Err(format!("{path}: required {other} is not a list")),
        }
        for (name, field) in fields {
            let at = field_path(path, name);
            match (properties.get(name), map.get("additionalProperties")) {
                (Some(schema), _) => self.check(schema, field, &at, depth + 1)?,
                (None, Some(Value::Bool(false))) => {
                    return Err(format!(
                    "{path}: the property {name:?} is not allowed (additionalProperties is false)"
                ))
                }
                (None, Some(schema)) => self.check(schema, field, &at, depth + 1)?,
                (None, None) => {}
            }
        }
        Ok(())
    }
}

/// The node `reference` points to: `#` (the root) or a JSON pointer into the root.
fn resolve<'a>(reference: &str, root: &'a Value) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    let pointer = pointer.strip_prefix('/')?;
    pointer.split('/').try_fold(root, |node, part| {
        let part = part.replace("~1", "/").replace("~0", "~");
        match node {
            Value::Object(map) => map.get(&part),
            Value::Array(items) => items.get(part.parse::<usize>().ok()?),
            _ => None,
        }
    })
}

fn check_type(types: &Value, value: &Value, path: &str) -> Result<(), String> {
    let names: Vec<&str> = match types {
        Value::String(t) => vec![t.as_str()],
        Value::Array(list) => list
            .iter()
            .map(|t| {
                t.as_str()
                    .ok_or_else(|| format!("{path}: the type {t} is not a type name"))
            })
            .collect::<Result<_, _>>()?,
        other => return Err(format!("{path}: the type {other} is not a type name")),
    };
    let mut matched = false;
    for name in &names {
        matched |= match *name {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => is_whole(value),
            other => return Err(format!("{path}: {other:?} is not a JSON Schema type")),
        };
    }
    if matched {
        Ok(())
    } else {
        Err(format!(
            "{path}: expected type {}, got {} {}",
            names.join(" or "),
            kind(value),
            short(value)
        ))
    }
}

fn is_whole(value: &Value) -> bool {
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => true,
        Value::Number(n) => n
            .as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0),
        _ => false,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) if is_whole(value) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JSON equality as JSON Schema means it: numbers by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn number(map: &Map<String, Value>, n: f64, value: &Value, path: &str) -> Result<(), String> {
    let bound = |key: &str| -> Result<Option<f64>, String> {
        match map.get(key) {
            None | Some(Value::Bool(_)) => Ok(None),
            Some(Value::Number(b)) => Ok(b.as_f64()),
            Some(other) => Err(format!("{path}: {key} {other} is not a number")),
        }
    };
    // Draft 4: `exclusiveMinimum: true` makes `minimum` exclusive.
    let draft4 = |key: &str| map.get(key) == Some(&Value::Bool(true));
    let shown = short(value);
    if let Some(min) = bound("minimum")? {
        if draft4("exclusiveMinimum") && n <= min {
            return Err(format!(
                "{path}: {shown} is not greater than the (exclusive) minimum {min}"
            ));
        }
        if n < min {
            return Err(format!("{path}: {shown} is less than the minimum {min}"));
        }
    }
    if let Some(max) = bound("maximum")? {
        if draft4("exclusiveMaximum") && n >= max {
            return Err(format!(
                "{path}: {shown} is not less than the (exclusive) maximum {max}"
            ));
        }
        if n > max {
            return Err(format!("{path}: {shown} is greater than the maximum {max}"));
        }
    }
    if let Some(min) = bound("exclusiveMinimum")? {
        if n <= min {
            return Err(format!(
                "{path}: {shown} is not greater than exclusiveMinimum {min}"
            ));
        }
    }
    if let Some(max) = bound("exclusiveMaximum")? {
        if n >= max {
            return Err(format!(
                "{path}: {shown} is not less than exclusiveMaximum {max}"
            ));
        }
    }
    if let Some(step) = bound("multipleOf")?.filter(|s| *s > 0.0) {
        let quotient = n / step;
        if (quotient - quotient.round()).abs() > 1e-9 * quotient.abs().max(1.0) {
            return Err(format!("{path}: {shown} is not a multiple of {step}"));
        }
    }
    Ok(())
}

fn string(map: &Map<String, Value>, s: &str, path: &str) -> Result<(), String> {
    let chars = s.chars().count();
    if let Some(min) = count(map, "minLength", path)? {
        if chars < min {
            return Err(format!(
                "{path}: the string {s:?} has {chars} characters, fewer than minLength {min}"
            ));
        }
    }
    if let Some(max) = count(map, "maxLength", path)? {
        if chars > max {
            return Err(format!(
                "{path}: the string {s:?} has {chars} characters, more than maxLength {max}"
            ));
        }
    }
    Ok(())
}

/// A count keyword (`minItems`, `maxLength`, ...): a whole number, 0 or more.
fn count(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<usize>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(v) => match v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }) {
            Some(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            None => Err(format!("{path}: {key} {v} is not a count")),
        },
    }
}

fn field_path(path: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{path}.{name}")
    } else {
        format!("{path}[{name:?}]")
    }
}

/// A value for a message: its JSON, cut short when long.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 80 {
        text
    } else {
        format!("{}…", text.chars().take(80).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fails(schema: Value, value: Value, wanted: &str) {
        match validate(&schema, &value) {
            Ok(()) => panic!("{value} passed {schema}, expected a failure with {wanted:?}"),
            Err(e) => assert!(e.contains(wanted), "{e:?} does not contain {wanted:?}"),
        }
    }

    fn passes(schema: Value, value: Value) {
        if let Err(e) = validate(&schema, &value) {
            panic!("{value} failed {schema}: {e}");
        }
    }

    #[test]
    fn types_one_or_a_list_and_integers_are_whole_numbers() {
        passes(json!({"type": "string"}), json!("a"));
        passes(json!({"type": ["string", "null"]}), json!(null));
        passes(json!({"type": "integer"}), json!(3));
        passes(json!({"type": "integer"}), json!(-3));
        passes(json!({"type": "integer"}), json!(3.0));
        passes(json!({"type": "number"}), json!(3));
        passes(json!({"type": "boolean"}), json!(false));
        passes(json!({"type": "array"}), json!([]));
        passes(json!({"type": "object"}), json!({}));
        passes(json!({}), json!({"anything": [1]}));
        passes(json!(true), json!(1));
        fails(
            json!({"type": "integer"}),
            json!(3.5),
            "$: expected type integer, got number 3.5",
        );
        fails(
            json!({"type": ["string", "null"]}),
            json!(1),
            "expected type string or null",
        );
        fails(json!({"type": "object"}), json!([]), "got array");
        fails(json!({"type": "number"}), json!("1"), "got string");
        fails(json!(false), json!(1), "allows nothing");
        fails(
            json!({"type": "strin"}),
            json!("a"),
            "not a JSON Schema type",
        );
    }

    #[test]
    fn objects_properties_required_and_closed() {
        let schema = json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name"],
            "additionalProperties": false
        });
        passes(schema.clone(), json!({"name": "a"}));
        passes(schema.clone(), json!({"name": "a", "age": 2}));
        fails(
            schema.clone(),
            json!({"age": 2}),
            "$: the required property \"name\" is missing",
        );
        fails(
            schema.clone(),
            json!({"name": 1}),
            "$.name: expected type string",
        );
        fails(
            schema.clone(),
            json!({"name": "a", "x": 1}),
            "\"x\" is not allowed",
        );
        // Open by default; or other properties held to a schema.
        passes(json!({"properties": {"a": {}}}), json!({"b": 1}));
        let typed = json!({"additionalProperties": {"type": "integer"}});
        passes(typed.clone(), json!({"b": 1}));
        fails(typed, json!({"b": "x"}), "$.b: expected type integer");
        // Odd names are quoted in the path.
        fails(
            json!({"properties": {"a b": {"type": "string"}}}),
            json!({"a b": 1}),
            "$[\"a b\"]: expected",
        );
    }

    #[test]
    fn arrays_items_and_counts() {
        let schema = json!({"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1, "maxItems": 2});
        passes(schema.clone(), json!([0, 5]));
        fails(schema.clone(), json!([]), "fewer than minItems 1");
        fails(schema.clone(), json!([1, 2, 3]), "more than maxItems 2");
        fails(
            schema,
            json!([1, -1]),
            "$[1]: -1 is less than the minimum 0",
        );
        let tuple = json!({"items": [{"type": "string"}, {"type": "integer"}]});
        passes(tuple.clone(), json!(["a", 1, null]));
        fails(tuple, json!([1]), "$[0]: expected type string");
        // Nested paths.
        fails(
            json!({"properties": {"rows": {"items": {"properties": {"n": {"type": "integer"}}}}}}),
            json!({"rows": [{"n": 1}, {"n": "x"}]}),
            "$.rows[1].n: expected type integer",
        );
    }

    #[test]
    fn enum_and_const_compare_numbers_by_value() {
        let schema = json!({"enum": ["a", 1, null, {"k": [2]}]});
        passes(schema.clone(), json!("a"));
        passes(schema.clone(), json!(1.0));
        passes(schema.clone(), json!(null));
        passes(schema.clone(), json!({"k": [2.0]}));
        fails(schema, json!("b"), "\"b\" is not one of the enum values");
        passes(json!({"const": 2}), json!(2.0));
        fails(
            json!({"const": "x"}),
            json!("y"),
            "\"y\" is not the const \"x\"",
        );
        fails(
            json!({"const": {"a": 1}}),
            json!({"a": 1, "b": 2}),
            "is not the const",
        );
    }

    #[test]
    fn numeric_bounds() {
        let schema = json!({"minimum": 1, "maximum": 3});
        passes(schema.clone(), json!(1));
        passes(schema.clone(), json!(3));
        fails(schema.clone(), json!(0.5), "less than the minimum 1");
        fails(schema, json!(3.5), "greater than the maximum 3");
        let exclusive = json!({"exclusiveMinimum": 1, "exclusiveMaximum": 3});
        passes(exclusive.clone(), json!(2));
        fails(
            exclusive.clone(),
            json!(1),
            "not greater than exclusiveMinimum 1",
        );
        fails(exclusive, json!(3), "not less than exclusiveMaximum 3");
        // Draft 4's boolean form.
        let draft4 = json!({"minimum": 1, "exclusiveMinimum": true});
        passes(draft4.clone(), json!(1.5));
        fails(draft4, json!(1), "exclusive");
        passes(json!({"multipleOf": 0.5}), json!(2.5));
        fails(json!({"multipleOf": 2}), json!(3), "not a multiple of 2");
        // Bounds only hold numbers to them.
        passes(json!({"minimum": 5}), json!("short"));
    }

    #[test]
    fn string_lengths_count_characters() {
        let schema = json!({"type": "string", "minLength": 2, "maxLength": 3});
        passes(schema.clone(), json!("🦀🦀🦀"));
        passes(schema.clone(), json!("日本"));
        fails(
            schema.clone(),
            json!("é"),
            "1 characters, fewer than minLength 2",
        );
        fails(schema, json!("abcd"), "more than maxLength 3");
        passes(json!({"maxLength": 1}), json!(12345));
    }

    #[test]
    fn any_one_and_all_of() {
        let any = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
        passes(any.clone(), json!("a"));
        passes(any.clone(), json!(1));
        fails(
            any,
            json!(true),
            "matches none of the anyOf branches (0: $: expected type string",
        );
        let one = json!({"oneOf": [{"type": "number"}, {"type": "integer"}]});
        passes(one.clone(), json!(1.5));
        fails(
            one,
            json!(1),
            "matches oneOf branches [0, 1], not exactly one",
        );
        fails(
            json!({"oneOf": [{"type": "null"}]}),
            json!(1),
            "matches none of the oneOf",
        );
        let all = json!({"allOf": [{"required": ["a"]}, {"required": ["b"]}]});
        passes(all.clone(), json!({"a": 1, "b": 2}));
        fails(
            all,
            json!({"a": 1}),
            "allOf branch 1 fails: $: the required property \"b\"",
        );
        fails(json!({"not": {"type": "null"}}), json!(null), "under `not`");
    }

    #[test]
    fn refs_resolve_against_the_root() {
        let schema = json!({
            "type": "object",
            "properties": {
                "home": {"$ref": "#/$defs/Place"},
                "work": {"$ref": "#/definitions/Place"},
                "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}
            },
            "$defs": {"Place": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            "definitions": {"Place": {"$ref": "#/$defs/Place"}}
        });
        passes(
            schema.clone(),
            json!({"home": {"city": "Oslo"}, "next": {"next": null}}),
        );
        fails(
            schema.clone(),
            json!({"home": {}}),
            "$.home: the required property \"city\"",
        );
        fails(
            schema.clone(),
            json!({"work": {"city": 1}}),
            "$.work.city: expected type string",
        );
        fails(
            schema,
            json!({"next": {"next": {"home": 1}}}),
            "$.next: {\"next\":{\"home\":1}} matches none of the anyOf",
        );
        fails(json!({"$ref": "#/$defs/Nope"}), json!(1), "points nowhere");
        fails(
            json!({"$ref": "https://example.com/s"}),
            json!(1),
            "points nowhere",
        );
        // Escapes in pointers, and a loop that never reaches a value.
        passes(
            json!({"$ref": "#/$defs/a~1b", "$defs": {"a/b": {"type": "integer"}}}),
            json!(1),
        );
        fails(json!({"$ref": "#"}), json!(1), "a loop?");
    }
}

//! What a request may ask beyond text: [`Tool`]s the model may call, the
//! [`ToolChoice`], and a [`ResponseFormat`] (JSON, or JSON matching a schema).

use serde::Serialize;
use serde_json::{Map, Value};

/// A tool (a function) the model may call: its name, what it does, and its parameters
/// as a JSON Schema object.
///
/// ```
/// use serde_json::json;
/// use theory_llm::Tool;
///
/// let weather = Tool::new(
///     "get_weather",
///     "The current weather in a city",
///     json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
/// );
/// assert_eq!(weather.strict, None);
/// let strict = weather.strict(); // OpenAI's strict mode: the schema is made strict too
/// assert_eq!(strict.parameters["additionalProperties"], json!(false));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Tool {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// Its parameters, a JSON Schema object (`serde_json::Value`: JSON data, by design).
    pub parameters: Value,
    /// Ask the provider to hold the model to the schema exactly (OpenAI `strict`;
    /// Anthropic `strict`). `None` leaves it to the provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl Tool {
    /// A tool. An empty `parameters` (`null`) means none: `{"type": "object"}`.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Tool {
        let parameters = if parameters.is_null() {
            serde_json::json!({"type": "object", "properties": {}})
        } else {
            parameters
        };
        Tool {
            name: name.into(),
            description: description.into(),
            parameters,
            strict: None,
        }
    }

    /// The tool in strict mode: its schema converted by [`strict_schema`], and `strict`
    /// set.
    #[must_use]
    pub fn strict(mut self) -> Tool {
        self.parameters = strict_schema(&self.parameters);
        self.strict = Some(true);
        self
    }
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model decides (the default when tools are given).
    Auto,
    /// No tool call, even with tools given.
    None,
    /// At least one tool call.
    Required,
    /// A call to this tool.
    Tool(String),
}

/// The shape of the reply: text, any JSON object, or JSON matching a schema. The JSON
/// streams as text; [`ChatReply::json`](crate::ChatReply::json) reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponseFormat {
    /// Plain text (the default).
    Text,
    /// A JSON object (OpenAI's JSON mode; Ollama `format: "json"`).
    JsonObject,
    /// JSON matching `schema`.
    JsonSchema {
        /// A name for the schema (OpenAI requires one).
        name: String,
        /// The JSON Schema.
        schema: Value,
        /// Ask the provider to hold the model to the schema exactly.
        strict: bool,
    },
}

impl ResponseFormat {
    /// JSON matching `schema`, not strict.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> ResponseFormat {
        ResponseFormat::JsonSchema {
            name: name.into(),
            schema,
            strict: false,
        }
    }

    /// JSON matching `schema` in strict mode: the schema converted by [`strict_schema`].
    pub fn strict_json_schema(name: impl Into<String>, schema: &Value) -> ResponseFormat {
        ResponseFormat::JsonSchema {
            name: name.into(),
            schema: strict_schema(schema),
            strict: true,
        }
    }
}

/// `schema` as OpenAI's strict mode requires it: every object has
/// `"additionalProperties": false` and lists every property as required; a property
/// that was optional becomes nullable (it may be `null` instead of absent). Nested
/// objects, array items, `anyOf`/`oneOf`/`allOf` branches and `$defs` are converted too.
///
/// ```
/// use serde_json::json;
///
/// let schema = json!({"type": "object",
///     "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
///     "required": ["name"]});
/// let strict = theory_llm::request::strict_schema(&schema);
/// assert_eq!(strict["required"], json!(["age", "name"]));
/// assert_eq!(strict["properties"]["age"]["type"], json!(["integer", "null"]));
/// assert_eq!(strict["additionalProperties"], json!(false));
/// ```
pub fn strict_schema(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    // `allOf` of plain object schemas is one object: merged before it is closed, since
    // branches closed one by one would admit no value with the properties of two.
    let flattened;
    let map = match map.get("allOf") {
        Some(Value::Array(parts))
            if !parts.is_empty()
                && parts
                    .iter()
                    .all(|p| p.is_object() && p.get("$ref").is_none()) =>
        {
            let mut merged = map.clone();
            merged.remove("allOf");
            for part in parts {
                merge_schema(&mut merged, part);
            }
            flattened = merged;
            &flattened
        }
        _ => map,
    };
    let mut out = Map::new();
    for (key, value) in map {
        let converted = match key.as_str() {
            "properties" | "$defs" | "definitions" | "patternProperties" => match value {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), strict_schema(v)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "not" | "additionalItems" => strict_schema(value),
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => match value {
                Value::Array(branches) => {
                    Value::Array(branches.iter().map(strict_schema).collect())
                }
                other => other.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    let is_object = match out.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => false,
    } || out.contains_key("properties");
    if !is_object {
        return Value::Object(out);
    }
    let required: Vec<String> = out
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    // A required name without a property would be forbidden once the object is closed:
    // it gets a property, of the `additionalProperties` schema if there was one.
    let extra = match out.get("additionalProperties") {
        Some(schema @ Value::Object(_)) => schema.clone(),
        _ => Value::Object(Map::new()),
    };
    for name in &required {
        let props = out
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(props) = props {
            props.entry(name.clone()).or_insert_with(|| extra.clone());
        }
    }
    if let Some(Value::Object(props)) = out.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            if !required.contains(name) {
                *prop = nullable(prop.clone());
            }
        }
        let all: Vec<Value> = props.keys().map(|k| Value::String(k.clone())).collect();
        out.insert("required".to_owned(), Value::Array(all));
    }
    out.insert("additionalProperties".to_owned(), Value::Bool(false));
    Value::Object(out)
}

/// Adds `part`'s keywords to the schema `into` (both meant to hold at once):
/// properties and required names are united, other keywords kept where `into` has
/// none.
pub(crate) fn merge_schema(into: &mut Map<String, Value>, part: &Value) {
    let Value::Object(part) = part else {
        return;
    };
    for (key, value) in part {
        match (key.as_str(), into.get_mut(key), value) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (name, schema) in theirs {
                    mine.entry(name.clone()).or_insert_with(|| schema.clone());
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                // A set of what is there: a search of the list per name is quadratic in
                // lists a hostile schema can make long.
                let mut seen: std::collections::HashSet<String> =
                    mine.iter().map(Value::to_string).collect();
                for name in theirs {
                    if seen.insert(name.to_string()) {
                        mine.push(name.clone());
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, _) => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

/// `schema` that also accepts `null`.
fn nullable(schema: Value) -> Value {
    let Value::Object(mut map) = schema else {
        return schema;
    };
    match map.get("type").cloned() {
        Some(Value::String(t)) if t == "null" => {}
        Some(Value::String(t)) => {
            map.insert("type".to_owned(), serde_json::json!([t, "null"]));
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                if !values.contains(&Value::Null) {
                    values.push(Value::Null);
                }
            }
        }
        Some(Value::Array(mut types)) => {
            if !types.contains(&Value::from("null")) {
                types.push(Value::from("null"));
            }
            map.insert("type".to_owned(), Value::Array(types));
        }
        _ => {
            let null_type = serde_json::json!({"type": "null"});
            if let Some(Value::Array(branches)) = map.get_mut("anyOf") {
                if !branches.contains(&null_type) {
                    branches.push(null_type);
                }
                return Value::Object(map);
            }
            let mut either = Map::new();
            either.insert(
                "anyOf".to_owned(),
                Value::Array(vec![Value::Object(map), null_type]),
            );
            return Value::Object(either);
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_schemas_close_every_object_and_require_every_property() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "either": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"x": {"type": "number"}}}]},
                "ref": {"$ref": "#/$defs/Point"}
            },
            "required": ["name"],
            "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}}
        });
        let s = strict_schema(&schema);
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["required"].as_array().unwrap().len(), 5);
        assert_eq!(s["properties"]["name"]["type"], json!("string"));
        assert_eq!(s["properties"]["tags"]["type"], json!(["array", "null"]));
        let item = &s["properties"]["tags"]["items"];
        assert_eq!(
            (
                item["additionalProperties"].clone(),
                item["required"].clone()
            ),
            (json!(false), json!(["k"]))
        );
        assert_eq!(item["properties"]["k"]["type"], json!(["string", "null"]));
        assert_eq!(s["properties"]["kind"]["enum"], json!(["a", "b", null]));
        assert_eq!(
            s["properties"]["either"]["anyOf"][1]["additionalProperties"],
            json!(false)
        );
        assert_eq!(s["properties"]["ref"]["anyOf"][1], json!({"type": "null"}));
        assert_eq!(s["$defs"]["Point"]["additionalProperties"], json!(false));
        // Idempotent, and a non-object is left alone.
        assert_eq!(strict_schema(&s), s);
        assert_eq!(
            strict_schema(&json!({"type": "string"})),
            json!({"type": "string"})
        );
        assert_eq!(strict_schema(&json!(true)), json!(true));
    }

    #[test]
    fn tools_without_parameters_take_an_empty_object() {
        let t = Tool::new("now", "The time", Value::Null);
        assert_eq!(t.parameters["type"], "object");
        assert_eq!(t.strict().parameters["additionalProperties"], json!(false));
    }

    /// Issue 24 (the same class as the mock's schemas): merging `required` lists
    /// searched the list for every name, quadratic in what a hostile `allOf` can make
    /// long. 60,000 names a side took minutes; a set makes it linear.
    #[test]
    fn merging_long_required_lists_keeps_each_name_once_in_order() {
        let names = |from: usize| -> Vec<Value> {
            (from..from + 60_000)
                .map(|i| json!(format!("p{i}")))
                .collect()
        };
        let mut into = json!({"required": names(0)}).as_object().unwrap().clone();
        merge_schema(&mut into, &json!({"required": names(30_000)}));
        let merged = into["required"].as_array().unwrap();
        assert_eq!(merged.len(), 90_000);
        assert_eq!(merged[0], "p0");
        assert_eq!(merged[89_999], "p89999");
    }
}

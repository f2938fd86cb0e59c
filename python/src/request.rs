//! The keyword arguments of `chat`, `stream_chat`, `achat` and `astream_chat`, read
//! into the crate's `ChatRequest` and checked by it before anything is sent. A bad
//! value raises `InvalidRequest` (a `ValueError`) naming the keyword.

use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value;

use crate::convert::from_python;
use crate::core::{
    ChatRequest, Message, ResponseFormat, Role, Timeouts, Tool, ToolCall, ToolChoice,
};
use crate::errors::{exception, invalid};

/// The keywords every chat method takes.
const KEYWORDS: [&str; 13] = [
    "model",
    "system",
    "messages",
    "temperature",
    "max_tokens",
    "stop",
    "seed",
    "tools",
    "tool_choice",
    "json_schema",
    "json_object",
    "timeout",
    "max_retries",
];

/// A request, and whether its reply is to be read as JSON.
pub(crate) struct Call {
    pub(crate) request: ChatRequest,
    pub(crate) structured: bool,
}

/// The request that `method(prompt, **kwargs)` asks for, validated by the crate.
pub(crate) fn call(
    py: Python<'_>,
    method: &str,
    prompt: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Call> {
    let mut request = ChatRequest::default();
    let mut json_schema = None;
    let mut json_object = false;
    if let Some(kwargs) = kwargs {
        for (key, value) in kwargs.iter() {
            let key: String = key.extract()?;
            if !KEYWORDS.contains(&key.as_str()) {
                return Err(PyTypeError::new_err(format!(
                    "{method}() got an unexpected keyword argument '{key}'"
                )));
            }
            if value.is_none() {
                continue;
            }
            let v = &value;
            request = match key.as_str() {
                "model" => request.model(text(py, &key, v)?),
                "system" => request.system(text(py, &key, v)?),
                "messages" => request.messages(messages(py, v)?),
                "temperature" => request.temperature(number(py, &key, v)? as f32),
                "max_tokens" => request.max_tokens(integer(py, &key, v)?),
                "stop" => request.stop(stop(py, v)?),
                "seed" => request.seed(integer(py, &key, v)?),
                "tools" => request.tools(tools(py, v)?),
                "tool_choice" => request.tool_choice(tool_choice(py, v)?),
                "timeout" => request.timeouts(Timeouts::default().deadline(seconds(py, v)?)),
                "max_retries" => request.max_retries(integer(py, &key, v)?),
                "json_schema" => {
                    json_schema = Some(schema(py, v)?);
                    request
                }
                _ => {
                    json_object = flag(py, &key, v)?;
                    request
                }
            };
        }
    }
    if let Some(prompt) = prompt.filter(|p| !p.is_none()) {
        request = request.message(Message::user(text(py, "prompt", prompt)?));
    }
    let format = match (json_schema, json_object) {
        (Some(_), true) => {
            return Err(invalid(
                py,
                "give json_schema or json_object=True, not both",
            ))
        }
        (Some(format), false) => Some(format),
        (None, true) => Some(ResponseFormat::JsonObject),
        (None, false) => None,
    };
    let structured = format.is_some();
    if let Some(format) = format {
        request = request.response_format(format);
    }
    request
        .validate()
        .map_err(|e| exception(py, e, None, None))?;
    Ok(Call {
        request,
        structured,
    })
}

fn text(py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(s) => Ok(s.to_str()?.to_owned()),
        Err(_) => Err(invalid(
            py,
            format!("{key} must be a string, not {}", type_name(value)),
        )),
    }
}

fn number(py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    if value.is_instance_of::<PyFloat>()
        || (value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>())
    {
        return value.extract::<f64>();
    }
    Err(invalid(
        py,
        format!("{key} must be a number, not {}", type_name(value)),
    ))
}

fn integer<T: for<'a, 'py> FromPyObject<'a, 'py>>(
    py: Python<'_>,
    key: &str,
    value: &Bound<'_, PyAny>,
) -> PyResult<T> {
    if !value.is_instance_of::<PyInt>() || value.is_instance_of::<PyBool>() {
        return Err(invalid(
            py,
            format!("{key} must be an integer, not {}", type_name(value)),
        ));
    }
    value.extract::<T>().map_err(|_| {
        invalid(
            py,
            format!("{key} is out of range: {value} (use a non-negative integer that fits)"),
        )
    })
}

fn flag(py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<bool> {
    match value.cast::<PyBool>() {
        Ok(b) => Ok(b.is_true()),
        Err(_) => Err(invalid(
            py,
            format!("{key} must be True or False, not {}", type_name(value)),
        )),
    }
}

fn seconds(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Duration> {
    let secs = number(py, "timeout", value)?;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(invalid(
            py,
            format!("timeout must be a positive number of seconds, not {secs}"),
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A list or tuple.
fn items<'py>(
    py: Python<'py>,
    key: &str,
    value: &Bound<'py, PyAny>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value.try_iter()?.collect();
    }
    Err(invalid(
        py,
        format!("{key} must be a list, not {}", type_name(value)),
    ))
}

fn dict<'a, 'py>(
    py: Python<'py>,
    what: &str,
    value: &'a Bound<'py, PyAny>,
) -> PyResult<&'a Bound<'py, PyDict>> {
    value.cast::<PyDict>().map_err(|_| {
        invalid(
            py,
            format!("{what} must be a dict, not {}", type_name(value)),
        )
    })
}

/// `dict[key]` as a string; `None` when absent or None.
fn text_field(
    py: Python<'_>,
    what: &str,
    dict: &Bound<'_, PyDict>,
    key: &str,
) -> PyResult<Option<String>> {
    match dict.get_item(key)? {
        Some(v) if !v.is_none() => text(py, &format!("{what}[\"{key}\"]"), &v).map(Some),
        _ => Ok(None),
    }
}

fn stop(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if value.is_instance_of::<PyString>() {
        return Ok(vec![text(py, "stop", value)?]);
    }
    items(py, "stop", value)?
        .iter()
        .map(|s| text(py, "each stop sequence", s))
        .collect()
}

/// `{"role", "content"}` each; an assistant turn may have `"tool_calls"`, a tool
/// result has `"tool_call_id"` and `"name"`.
fn messages(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Vec<Message>> {
    items(py, "messages", value)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let what = format!("messages[{i}]");
            let m = dict(py, &what, item)?;
            let content = text_field(py, &what, m, "content")?.unwrap_or_default();
            let role = text_field(py, &what, m, "role")?.unwrap_or_default();
            let role = match role.as_str() {
                "system" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                "tool" => Role::Tool,
                other => {
                    return Err(invalid(
                        py,
                        format!("{what}[\"role\"] must be \"system\", \"user\", \"assistant\" or \"tool\", not {other:?}"),
                    ))
                }
            };
            if role == Role::Tool {
                let id = text_field(py, &what, m, "tool_call_id")?.unwrap_or_default();
                let name = text_field(py, &what, m, "name")?.unwrap_or_default();
                return Ok(Message::tool_result(id, name, content));
            }
            let calls = match m.get_item("tool_calls")? {
                Some(calls) if !calls.is_none() => tool_calls(py, &what, &calls)?,
                _ => Vec::new(),
            };
            Ok(Message::new(role, content).with_tool_calls(calls))
        })
        .collect()
}

/// An assistant turn's calls, as `reply.tool_calls` gives them.
fn tool_calls(py: Python<'_>, what: &str, value: &Bound<'_, PyAny>) -> PyResult<Vec<ToolCall>> {
    items(py, &format!("{what}[\"tool_calls\"]"), value)?
        .iter()
        .map(|call| {
            let call = dict(py, "a tool call", call)?;
            let id = text_field(py, "a tool call", call, "id")?.unwrap_or_default();
            let name = text_field(py, "a tool call", call, "name")?.unwrap_or_default();
            let arguments = match call.get_item("arguments")? {
                Some(a) if a.is_instance_of::<PyString>() => {
                    return ToolCall::from_parts(id, name, &text(py, "arguments", &a)?)
                        .map_err(|e| exception(py, e, None, None))
                }
                Some(a) => from_python(&a, "a tool call's arguments")
                    .map_err(|e| invalid(py, e.to_string()))?,
                None => Value::Object(serde_json::Map::new()),
            };
            Ok(ToolCall::new(id, name, arguments))
        })
        .collect()
}

/// `{"name", "description", "parameters", "strict"}` each, or OpenAI's
/// `{"type": "function", "function": {...}}`.
fn tools(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Vec<Tool>> {
    items(py, "tools", value)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let what = format!("tools[{i}]");
            let mut spec = dict(py, &what, item)?.clone();
            if let Some(function) = spec.get_item("function")? {
                spec = dict(py, &what, &function)?.clone();
            }
            let name = text_field(py, &what, &spec, "name")?.unwrap_or_default();
            let description = text_field(py, &what, &spec, "description")?.unwrap_or_default();
            let parameters = match spec.get_item("parameters")? {
                Some(p) => from_python(&p, &format!("{what}[\"parameters\"]"))
                    .map_err(|e| invalid(py, e.to_string()))?,
                None => Value::Null,
            };
            let tool = Tool::new(name, description, parameters);
            Ok(match spec.get_item("strict")? {
                Some(s) if flag(py, &format!("{what}[\"strict\"]"), &s)? => tool.strict(),
                _ => tool,
            })
        })
        .collect()
}

fn tool_choice(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<ToolChoice> {
    Ok(match text(py, "tool_choice", value)?.trim() {
        "" => {
            return Err(invalid(
                py,
                "tool_choice must be \"auto\", \"none\", \"required\" or a tool's name",
            ))
        }
        "auto" => ToolChoice::Auto,
        "none" => ToolChoice::None,
        "required" => ToolChoice::Required,
        name => ToolChoice::Tool(name.to_owned()),
    })
}

/// A JSON Schema, or OpenAI's `{"name", "schema", "strict"}` (as `hello_llm
/// --json-schema` reads a file).
fn schema(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<ResponseFormat> {
    dict(py, "json_schema", value)?;
    let schema = from_python(value, "json_schema").map_err(|e| invalid(py, e.to_string()))?;
    if let (Some(name), Some(inner)) = (schema["name"].as_str(), schema.get("schema")) {
        if schema["strict"] == true {
            return Ok(ResponseFormat::strict_json_schema(name, inner));
        }
        return Ok(ResponseFormat::json_schema(name, inner.clone()));
    }
    Ok(ResponseFormat::json_schema("reply", schema))
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

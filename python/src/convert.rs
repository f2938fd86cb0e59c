//! Data between Python and Rust: serializable Rust values to Python objects (replies,
//! usage, tool calls), and Python JSON data to `serde_json::Value` (schemas, tool
//! parameters, tool call arguments).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::Serialize;
use serde_json::{Map, Number, Value};

/// Deeper than any schema; a bound, so that a list that contains itself is an error
/// rather than a stack overflow.
const MAX_DEPTH: usize = 128;

/// `value` as Python objects, through its `Serialize`: structs and maps as dicts (in
/// their order), sequences as lists, integers as ints, other numbers as floats.
pub(crate) fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A Python value (dicts with string keys, lists, tuples, strings, numbers, booleans,
/// `None`) as JSON; `what` names it in the error.
pub(crate) fn from_python(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    from_python_at(value, what, 0)
}

fn from_python_at(value: &Bound<'_, PyAny>, what: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{what} is nested more than {MAX_DEPTH} levels deep"
        )));
    }
    if value.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: in Python, True is an int.
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(i) = value.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = value.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err(format!(
            "{what} holds an integer too large for JSON: {value}"
        )));
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        let f = f.value();
        return Number::from_f64(f).map(Value::Number).ok_or_else(|| {
            PyValueError::new_err(format!("{what} holds {f}, which JSON cannot represent"))
        });
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let Ok(key) = key.cast::<PyString>() else {
                return Err(PyValueError::new_err(format!(
                    "{what} has a key that is not a string: {}",
                    key.repr()?
                )));
            };
            map.insert(
                key.to_str()?.to_owned(),
                from_python_at(&item, what, depth + 1)?,
            );
        }
        return Ok(Value::Object(map));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in value.try_iter()? {
            items.push(from_python_at(&item?, what, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    Err(PyValueError::new_err(format!(
        "{what} holds a {}, which is not JSON data (use dicts, lists, strings, numbers, booleans and None)",
        value.get_type().name()?
    )))
}

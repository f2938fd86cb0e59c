//! The crate's errors as Python exceptions. The classes are declared in
//! `theory_llm/_errors.py` (Python declares multiple bases, such as
//! `ModelNotFound(LLMError, ValueError)`, most plainly); this file fills them in.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::convert::to_python;
use crate::core::{Error, ErrorKind};
use crate::hello_output::error_json;
use crate::reply::{LLMReply, Origin, ReplyData};

/// `theory_llm._errors._from_native`: makes the exception of a kind.
static FROM_NATIVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `error` as the Python exception of its kind, with `.kind`, `.status`, `.partial`
/// (what had arrived, as an `LLMReply`; `whole` when the whole reply had, as for
/// structured output that does not parse) and, for a rate limit, `.retry_after`.
/// `origin` names the provider and model of the request, for the partial reply.
pub(crate) fn exception(
    py: Python<'_>,
    mut error: Error,
    origin: Option<&Origin>,
    whole: Option<ReplyData>,
) -> PyErr {
    match build(py, &mut error, origin, whole) {
        Ok(err) | Err(err) => err,
    }
}

fn build(
    py: Python<'_>,
    error: &mut Error,
    origin: Option<&Origin>,
    whole: Option<ReplyData>,
) -> PyResult<PyErr> {
    // What `hello_llm --json` prints for this error, before the partial reply is taken.
    let details = to_python(py, &error_json(error))?;
    let partial = match (whole, error.take_partial(), origin) {
        (Some(whole), _, _) => Some(whole),
        (None, Some(partial), Some(origin)) => Some(ReplyData::Partial {
            partial: Box::new(partial),
            origin: origin.clone(),
        }),
        _ => None,
    };
    let partial = match partial {
        Some(data) => Some(Py::new(py, LLMReply::new(data))?),
        None => None,
    };
    let retry_after = error.retry_after().map(|d| d.as_secs_f64());
    let make = FROM_NATIVE.import(py, "theory_llm._errors", "_from_native")?;
    let instance = make.call1((
        error.kind().as_str(),
        error.message(),
        error.status(),
        retry_after,
        partial,
        details,
    ))?;
    Ok(PyErr::from_value(instance))
}

/// An `InvalidRequest` (a `ValueError`) for a bad argument, raised before anything is
/// sent.
pub(crate) fn invalid(py: Python<'_>, message: impl Into<String>) -> PyErr {
    exception(
        py,
        Error::new(ErrorKind::InvalidRequest, message),
        None,
        None,
    )
}

//! [`Budget`]: the bound on one value the mock makes for a JSON Schema. A schema of a
//! hundred bytes can ask for gigabytes (`minItems` inside `minItems`, `$ref`s that
//! double at each level), so the value's JSON is counted as it is made and the
//! request fails once it passes the bound, instead of running for minutes.

use std::io;

use serde::Serialize;

use crate::error::{Error, ErrorKind};

/// The most JSON the mock makes for one schema, in bytes (1 MiB).
pub(crate) const MAX_VALUE_BYTES: usize = 1 << 20;
/// How deep a schema is followed (each object, array item, `$ref` and `anyOf`/`allOf`
/// is a level): a schema that requires more has no value the mock makes.
pub(crate) const MAX_DEPTH: usize = 64;
/// The most steps (schema nodes visited, and list entries read: `enum`, `required`,
/// `type`, `anyOf`) spent on one value, so that a long list read once per array item
/// cannot take long either. Values of the byte bound take far fewer.
const MAX_STEPS: usize = 16 * MAX_VALUE_BYTES;

/// Why no value was made: the bound the schema asks the mock to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// [`MAX_VALUE_BYTES`].
    Bytes,
    /// [`MAX_DEPTH`].
    Depth,
    /// [`MAX_STEPS`].
    Steps,
}

impl Bound {
    /// The request's error: an invalid request, naming the bound.
    pub(crate) fn error(self) -> Error {
        let message = match self {
            Bound::Bytes => format!(
                "the schema asks for a value larger than the mock makes \
                 (at most {MAX_VALUE_BYTES} bytes of JSON)"
            ),
            Bound::Depth => format!(
                "the schema asks for a value nested deeper than the mock makes \
                 (at most {MAX_DEPTH} levels of schema)"
            ),
            Bound::Steps => format!(
                "the schema asks for a value that takes more work than the mock does \
                 (at most {MAX_STEPS} steps)"
            ),
        };
        Error::new(ErrorKind::InvalidRequest, message)
    }
}

/// What is left to spend on one value.
#[derive(Debug)]
pub(crate) struct Budget {
    bytes: usize,
    steps: usize,
}

impl Budget {
    /// The whole budget of one value.
    pub(crate) fn new() -> Budget {
        Budget {
            bytes: MAX_VALUE_BYTES,
            steps: MAX_STEPS,
        }
    }

    /// `n` more bytes of the value's JSON.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<(), Bound> {
        self.bytes = self.bytes.checked_sub(n).ok_or(Bound::Bytes)?;
        Ok(())
    }

    /// Whether `n` more bytes would still fit (nothing is spent).
    pub(crate) fn fits(&self, n: usize) -> bool {
        n <= self.bytes
    }

    /// The bytes spent so far.
    #[cfg(test)]
    pub(crate) fn spent(&self) -> usize {
        MAX_VALUE_BYTES - self.bytes
    }

    /// `n` more steps of work.
    pub(crate) fn steps(&mut self, n: usize) -> Result<(), Bound> {
        self.steps = self.steps.checked_sub(n).ok_or(Bound::Steps)?;
        Ok(())
    }

    /// The bytes of `value` as JSON (a value or key copied from the schema), spent;
    /// counting stops at what is left, so a huge `const` costs no more than the bound.
    pub(crate) fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Bound> {
        let mut counter = Counter {
            left: self.bytes,
            written: 0,
        };
        serde_json::to_writer(&mut counter, value).map_err(|_| Bound::Bytes)?;
        self.bytes(counter.written)
    }
}

/// A writer that counts what it is given and refuses more than `left` bytes.
struct Counter {
    left: usize,
    written: usize,
}

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written = self.written.saturating_add(buf.len());
        if self.written > self.left {
            return Err(io::Error::other("past the bound"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_counted_as_serialized_and_refused_past_the_bound() {
        let mut budget = Budget::new();
        budget.json(&serde_json::json!({"a": [1, "é\n"]})).unwrap();
        assert_eq!(budget.bytes, MAX_VALUE_BYTES - r#"{"a":[1,"é\n"]}"#.len());
        let huge = "x".repeat(MAX_VALUE_BYTES);
        assert_eq!(budget.json(huge.as_str()), Err(Bound::Bytes));
        assert_eq!(budget.bytes(usize::MAX), Err(Bound::Bytes));
        assert_eq!(budget.steps(usize::MAX), Err(Bound::Steps));
    }
}

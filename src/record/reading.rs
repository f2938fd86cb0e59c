//! Reading a recording: line by line, within limits, each line parsed as a [`Line`]
//! and the first one that is not of the format named.

use std::io::{BufRead, Read};

use crate::error::{Error, ErrorKind, Result};

use super::lines::Line;

/// How much of a recording is read: past any of these, it is refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The longest line, in bytes, without its line end.
    pub(crate) line_bytes: usize,
    /// The whole recording, in bytes.
    pub(crate) total_bytes: u64,
    /// The lines that are not blank.
    pub(crate) lines: usize,
}

/// Reads a recording line by line, within `limits`, naming the first line that is not
/// of the format. `source` (a file's name, or empty) starts each message. Reads at
/// most `limits.total_bytes + 1` bytes, and holds at most one line past the last kept.
pub(crate) fn read(reader: impl BufRead, source: &str, limits: Limits) -> Result<Vec<Line>> {
    let fail = |what: String| failure(source, &what);
    let mut reader = reader.take(limits.total_bytes.saturating_add(1));
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    let mut total: u64 = 0;
    let mut number: usize = 0;
    loop {
        buf.clear();
        number += 1;
        // The line, its line end ("\n" or "\r\n"), and one byte to tell it too long.
        let line_limit = (limits.line_bytes as u64).saturating_add(2);
        let read = (&mut reader)
            .take(line_limit)
            .read_until(b'\n', &mut buf)
            .map_err(|e| fail(format!("cannot read line {number}: {e}")))?;
        if read == 0 {
            return Ok(lines);
        }
        total = total.saturating_add(read as u64);
        if total > limits.total_bytes {
            return Err(fail(format!(
                "the recording is larger than {}; replay a smaller one",
                size(limits.total_bytes)
            )));
        }
        let line = match buf.strip_suffix(b"\n") {
            Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
            None => &buf[..],
        };
        if line.len() > limits.line_bytes {
            return Err(fail(format!(
                "line {number} is longer than {}, the longest line a recording may have",
                size(limits.line_bytes as u64)
            )));
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| fail(format!("line {number} is not UTF-8 text")))?;
        if line.trim().is_empty() {
            continue;
        }
        if lines.len() == limits.lines {
            return Err(fail(format!(
                "the recording has more than {} lines; replay a smaller one",
                limits.lines
            )));
        }
        let parsed = serde_json::from_str::<Line>(line).map_err(|e| {
            fail(format!(
                "line {number} is not a recording line ({e}): {}",
                crate::error::excerpt(line, 120)
            ))
        })?;
        lines.push(parsed);
    }
}

/// A recording that cannot be replayed, and why; `source` names it (or is empty).
pub(crate) fn failure(source: &str, why: &str) -> Error {
    let message = match source {
        "" => format!("replay: {why}"),
        source => format!("replay: {source}: {why}"),
    };
    Error::new(ErrorKind::InvalidRequest, message)
}

/// `64 MiB`, or `1000 bytes`.
fn size(bytes: u64) -> String {
    match bytes % (1 << 20) {
        0 => format!("{} MiB", bytes >> 20),
        _ => format!("{bytes} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{"type":"text","t_ms":1.0,"text":"x"}"#;

    fn limits(line_bytes: usize, total_bytes: u64, lines: usize) -> Limits {
        Limits {
            line_bytes,
            total_bytes,
            lines,
        }
    }

    fn read_str(text: &str, limits: Limits) -> Result<Vec<Line>> {
        read(text.as_bytes(), "f.jsonl", limits)
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_read_and_one_byte_more_is_not() {
        let cap = TEXT.len();
        for ending in ["", "\n", "\r\n"] {
            let text = format!("{TEXT}{ending}");
            assert_eq!(
                read_str(&text, limits(cap, 1000, 10)).unwrap().len(),
                1,
                "{ending:?}"
            );
            let err = read_str(&text, limits(cap - 1, 1000, 10)).unwrap_err();
            assert_eq!(
                err.message(),
                format!("replay: f.jsonl: line 1 is longer than {} bytes, the longest line a recording may have", cap - 1)
            );
        }
        // Line numbers count blank lines, as an editor does.
        let text = format!("{TEXT}\n\n{TEXT}x\n");
        let err = read_str(&text, limits(cap, 1000, 10)).unwrap_err();
        assert!(err.message().contains("line 3 is longer"), "{err}");
    }

    #[test]
    fn a_recording_is_capped_in_bytes_and_in_lines() {
        let text = format!("{TEXT}\n\n{TEXT}\n");
        let size = text.len() as u64;
        assert_eq!(read_str(&text, limits(100, size, 2)).unwrap().len(), 2);
        let err = read_str(&text, limits(100, size - 1, 2)).unwrap_err();
        assert_eq!(
            err.message(),
            format!(
                "replay: f.jsonl: the recording is larger than {} bytes; replay a smaller one",
                size - 1
            )
        );
        // Blank lines are not counted, and cost only their bytes.
        let err = read_str(&text, limits(100, size, 1)).unwrap_err();
        assert!(err.message().contains("more than 1 lines"), "{err}");
        assert!(read_str("\n\n \n", limits(1, 4, 0)).unwrap().is_empty());
    }

    #[test]
    fn the_recording_is_read_no_further_than_its_caps() {
        /// An endless source that counts what it gives.
        struct Endless(u64);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                buf.fill(b' ');
                self.0 += buf.len() as u64;
                Ok(buf.len())
            }
        }
        let mut endless = Endless(0);
        let reader = std::io::BufReader::with_capacity(7, &mut endless);
        assert!(read(reader, "", limits(100, 1000, 10)).is_err());
        assert!(endless.0 <= 102 + 7, "read {} bytes", endless.0);
        // Many short lines: the total is the bound.
        let mut lines = std::io::repeat(b'\n').take(u64::MAX);
        let reader = std::io::BufReader::with_capacity(64, &mut lines);
        let err = read(reader, "", limits(100, 1000, 10)).unwrap_err();
        assert!(err.message().contains("larger than 1000 bytes"), "{err}");
        assert!(u64::MAX - lines.limit() <= 1001 + 64);
    }

    #[test]
    fn lines_split_anywhere_read_the_same() {
        let text = format!("{TEXT}\r\n\n{TEXT}\n  \n{TEXT}");
        let whole = read_str(&text, limits(100, 1000, 10)).unwrap();
        assert_eq!(whole.len(), 3);
        for capacity in 1..8 {
            let reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            assert_eq!(read(reader, "", limits(100, 1000, 10)).unwrap(), whole);
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_or_not_of_the_format_is_named() {
        let err = read(&b"\n\xff\n"[..], "", limits(100, 1000, 10)).unwrap_err();
        assert_eq!(err.message(), "replay: line 2 is not UTF-8 text");
        let err = read_str("{}\n", limits(100, 1000, 10)).unwrap_err();
        assert!(
            err.message()
                .starts_with("replay: f.jsonl: line 1 is not a recording line"),
            "{err}"
        );
    }
}

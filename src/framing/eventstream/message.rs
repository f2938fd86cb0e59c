//! One message of the AWS event stream, read from its bytes: the prelude, the typed
//! headers, the payload and the two checksums.
//!
//! ```text
//! [total length: u32 BE][headers length: u32 BE][prelude CRC32 of the 8 bytes before]
//! [headers: headers length bytes][payload][message CRC32 of every byte before]
//! ```
//!
//! A header is `[name length: u8][name][type: u8][value]`, the value by its type: 0
//! true and 1 false (no bytes), 2 byte (1), 3 short (2), 4 integer (4), 5 long (8), 6
//! byte array and 7 string (`u16` BE length, then the bytes; a string is UTF-8), 8
//! timestamp (8), 9 UUID (16). Names are UTF-8, and no name is given twice (botocore
//! refuses that too).

/// Bytes of the prelude: total length, headers length, prelude CRC.
pub(crate) const PRELUDE: usize = 12;
/// Bytes of the message CRC at the end.
const TRAILER: usize = 4;
/// The smallest message: a prelude and a message CRC.
pub(crate) const MIN_MESSAGE: usize = PRELUDE + TRAILER;
/// The most bytes of headers a message may have (the AWS limit, 128 KiB).
pub(crate) const MAX_HEADERS: usize = 128 * 1024;

/// The CRC32 (IEEE) of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

fn be32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(bytes);
    u32::from_be_bytes(word)
}

/// The total length a message's 12-byte prelude announces, checked: its CRC, lengths
/// that fit together, the headers within [`MAX_HEADERS`]. `Err` says what failed;
/// `Ok(Err(total))` is a message longer than `max`.
pub(crate) fn prelude(bytes: &[u8; PRELUDE], max: usize) -> Result<Result<usize, usize>, String> {
    let (lengths, crc) = bytes.split_at(8);
    let (expected, found) = (be32(crc), crc32(lengths));
    if expected != found {
        return Err(format!(
            "the prelude's CRC32 does not match (it says {expected:#010x}, its bytes give {found:#010x})"
        ));
    }
    let total = be32(&lengths[..4]) as usize;
    let headers = be32(&lengths[4..]) as usize;
    if total < MIN_MESSAGE || headers > total - MIN_MESSAGE {
        return Err(format!(
            "the prelude's lengths do not fit together (a message of {total} bytes with {headers} bytes of headers)"
        ));
    }
    if headers > MAX_HEADERS {
        return Err(format!(
            "a message has {headers} bytes of headers, more than the {MAX_HEADERS} allowed"
        ));
    }
    Ok(if total > max { Err(total) } else { Ok(total) })
}

/// The headers the crate reads, and the payload, borrowed from the message.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Message<'a> {
    /// `:message-type`: `event`, `exception` or `error`.
    pub(crate) message_type: Option<&'a str>,
    /// `:event-type` of an event (`contentBlockDelta`).
    pub(crate) event_type: Option<&'a str>,
    /// `:exception-type` of an exception (`throttlingException`).
    pub(crate) exception_type: Option<&'a str>,
    /// `:error-code` and `:error-message` of an error message.
    pub(crate) error_code: Option<&'a str>,
    pub(crate) error_message: Option<&'a str>,
    /// `:content-type` of the payload.
    pub(crate) content_type: Option<&'a str>,
    pub(crate) payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// Reads a whole message (its lengths and headers; the CRCs and unique names are the
    /// framer's to check, see [`checked`]). `Err` says what is wrong with it.
    pub(crate) fn read(message: &'a [u8]) -> Result<Message<'a>, String> {
        Message::parse(message, None)
    }

    /// [`read`](Self::read), gathering every header's name in `names` if given.
    fn parse(
        message: &'a [u8],
        mut names: Option<&mut Vec<&'a str>>,
    ) -> Result<Message<'a>, String> {
        if message.len() < MIN_MESSAGE {
            return Err(format!(
                "a message of {} bytes is shorter than its prelude and checksum",
                message.len()
            ));
        }
        let total = be32(&message[..4]) as usize;
        let headers_len = be32(&message[4..8]) as usize;
        if total != message.len() || headers_len > total - MIN_MESSAGE {
            return Err(format!(
                "a message of {} bytes says it has {total}, {headers_len} of them headers",
                message.len()
            ));
        }
        let headers_end = PRELUDE + headers_len;
        let mut out = Message {
            payload: &message[headers_end..total - TRAILER],
            ..Message::default()
        };
        let mut rest = &message[PRELUDE..headers_end];
        while !rest.is_empty() {
            let (name, value, after) = header(rest)?;
            rest = after;
            if let Some(names) = names.as_mut() {
                names.push(name);
            }
            let slot = match name {
                ":message-type" => &mut out.message_type,
                ":event-type" => &mut out.event_type,
                ":exception-type" => &mut out.exception_type,
                ":error-code" => &mut out.error_code,
                ":error-message" => &mut out.error_message,
                ":content-type" => &mut out.content_type,
                _ => continue,
            };
            *slot = match value {
                Value::String(text) => Some(text),
                Value::Other => None,
            };
        }
        Ok(out)
    }
}

/// A message whose CRCs match its bytes and whose header names are unique, read.
pub(crate) fn checked(message: &[u8]) -> Result<Message<'_>, String> {
    if message.len() >= MIN_MESSAGE {
        let (body, crc) = message.split_at(message.len() - TRAILER);
        let (expected, found) = (be32(crc), crc32(body));
        if expected != found {
            return Err(format!(
                "a message's CRC32 does not match (it says {expected:#010x}, its bytes give {found:#010x})"
            ));
        }
    }
    let mut names = Vec::new();
    let read = Message::parse(message, Some(&mut names))?;
    names.sort_unstable();
    if let Some(twice) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("header '{}' is given twice", twice[0]));
    }
    Ok(read)
}

/// A header's value, as far as the crate reads it.
enum Value<'a> {
    String(&'a str),
    Other,
}

/// The first header of `bytes`: its name, its value, and the bytes after it.
fn header(bytes: &[u8]) -> Result<(&str, Value<'_>, &[u8]), String> {
    let cut = |at: usize, what: &str| -> Result<(), String> {
        if at > bytes.len() {
            Err(format!(
                "a header's {what} runs past the end of the headers"
            ))
        } else {
            Ok(())
        }
    };
    let name_len = usize::from(bytes[0]);
    cut(1 + name_len + 1, "name")?;
    let name = std::str::from_utf8(&bytes[1..1 + name_len])
        .map_err(|_| "a header's name is not UTF-8".to_owned())?;
    let kind = bytes[1 + name_len];
    let at = 2 + name_len;
    let fixed = match kind {
        0 | 1 => Some(0),
        2 => Some(1),
        3 => Some(2),
        4 => Some(4),
        5 | 8 => Some(8),
        9 => Some(16),
        6 | 7 => None,
        other => return Err(format!("header '{name}' has an unknown type ({other})")),
    };
    if let Some(len) = fixed {
        cut(at + len, "value")?;
        return Ok((name, Value::Other, &bytes[at + len..]));
    }
    cut(at + 2, "value length")?;
    let len = usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
    let end = at + 2 + len;
    cut(end, "value")?;
    let value = &bytes[at + 2..end];
    if kind == 6 {
        return Ok((name, Value::Other, &bytes[end..]));
    }
    let text = std::str::from_utf8(value)
        .map_err(|_| format!("the value of header '{name}' is not UTF-8"))?;
    Ok((name, Value::String(text), &bytes[end..]))
}

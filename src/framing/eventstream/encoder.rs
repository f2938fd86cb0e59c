//! An encoder of AWS event-stream messages, for the tests (the framer's, and the
//! Bedrock decoder's); the published vectors in `tests.rs` check it.

use super::message::crc32;

/// A header value of each type the encoding has.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    True,
    False,
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(Vec<u8>),
    Str(String),
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One message, encoded as the AWS event stream does.
pub(crate) fn encode(headers: &[(&str, Value)], payload: &[u8]) -> Vec<u8> {
    let mut head = Vec::new();
    for (name, value) in headers {
        head.push(name.len() as u8);
        head.extend_from_slice(name.as_bytes());
        match value {
            Value::True => head.push(0),
            Value::False => head.push(1),
            Value::Byte(b) => head.extend([2, *b as u8]),
            Value::Short(v) => {
                head.push(3);
                head.extend(v.to_be_bytes());
            }
            Value::Int(v) => {
                head.push(4);
                head.extend(v.to_be_bytes());
            }
            Value::Long(v) => {
                head.push(5);
                head.extend(v.to_be_bytes());
            }
            Value::Bytes(b) => {
                head.push(6);
                head.extend((b.len() as u16).to_be_bytes());
                head.extend(b);
            }
            Value::Str(s) => {
                head.push(7);
                head.extend((s.len() as u16).to_be_bytes());
                head.extend(s.as_bytes());
            }
            Value::Timestamp(v) => {
                head.push(8);
                head.extend(v.to_be_bytes());
            }
            Value::Uuid(u) => {
                head.push(9);
                head.extend(u);
            }
        }
    }
    let total = 12 + head.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend((total as u32).to_be_bytes());
    out.extend((head.len() as u32).to_be_bytes());
    out.extend(crc32(&out).to_be_bytes());
    out.extend(head);
    out.extend(payload);
    out.extend(crc32(&out).to_be_bytes());
    out
}

/// An event of Bedrock's shape.
pub(crate) fn event(kind: &str, payload: &str) -> Vec<u8> {
    encode(
        &[
            (":event-type", Value::Str(kind.into())),
            (":content-type", Value::Str("application/json".into())),
            (":message-type", Value::Str("event".into())),
        ],
        payload.as_bytes(),
    )
}

/// An exception of Bedrock's shape.
pub(crate) fn exception(kind: &str, payload: &str) -> Vec<u8> {
    encode(
        &[
            (":exception-type", Value::Str(kind.into())),
            (":content-type", Value::Str("application/json".into())),
            (":message-type", Value::Str("exception".into())),
        ],
        payload.as_bytes(),
    )
}

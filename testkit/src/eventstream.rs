//! AWS event-stream messages (Bedrock's ConverseStream), written for tests and fuzzing:
//! the test kit's own encoder, independent of the crate's framer (which the published
//! vectors and the cross-check against botocore hold to the format).

/// The CRC32 (IEEE, reflected, polynomial 0xEDB88320) of `bytes`, bit by bit: slow,
/// and written apart from the crate's.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One message with string headers and `payload`, both CRCs right.
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut head = Vec::new();
    for (name, value) in headers {
        head.push(u8::try_from(name.len()).expect("a header name of at most 255 bytes"));
        head.extend_from_slice(name.as_bytes());
        head.push(7);
        let len = u16::try_from(value.len()).expect("a header value of at most 65535 bytes");
        head.extend_from_slice(&len.to_be_bytes());
        head.extend_from_slice(value.as_bytes());
    }
    let total = 12 + head.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(
        &u32::try_from(total)
            .expect("a message under 4 GiB")
            .to_be_bytes(),
    );
    out.extend_from_slice(
        &u32::try_from(head.len())
            .expect("small headers")
            .to_be_bytes(),
    );
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A ConverseStream event (`:message-type: event`) of type `kind` with a JSON payload.
pub fn event(kind: &str, payload: &serde_json::Value) -> Vec<u8> {
    message(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

/// A ConverseStream exception (`throttlingException`, …) with its `{"message"}`.
pub fn exception(kind: &str, message_text: &str) -> Vec<u8> {
    message(
        &[
            (":exception-type", kind),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        serde_json::json!({ "message": message_text })
            .to_string()
            .as_bytes(),
    )
}

/// The body of a ConverseStream reply of text in `pieces`, then `messageStop` with
/// `stop_reason` and `metadata` with these token counts.
pub fn text_reply(pieces: &[&str], stop_reason: &str, tokens: (u64, u64)) -> Vec<u8> {
    use serde_json::json;
    let mut body = event("messageStart", &json!({"role": "assistant"}));
    for piece in pieces {
        body.extend(event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"text": piece}, "p": "abcdefghij"}),
        ));
    }
    body.extend(event("contentBlockStop", &json!({"contentBlockIndex": 0})));
    body.extend(event("messageStop", &json!({"stopReason": stop_reason})));
    body.extend(event(
        "metadata",
        &json!({"usage": {"inputTokens": tokens.0, "outputTokens": tokens.1,
                          "totalTokens": tokens.0 + tokens.1},
                "metrics": {"latencyMs": 120}}),
    ));
    body
}

/// A ConverseStream body from lines (a `.events` transcript, or fuzzer input), its
/// framing right so that the decoder behind the checksums is reached: each line a
/// message, `kind|payload` an event of that type (`!kind|payload` an exception,
/// `?|payload` a message without headers; no `|`, a `contentBlockDelta`), each with its
/// CRCs computed. A last empty line is not a message.
pub fn body_from_lines(data: &[u8]) -> Vec<u8> {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    let mut body = Vec::new();
    for line in data.split(|b| *b == b'\n') {
        let (kind, payload) = match line.iter().position(|b| *b == b'|') {
            Some(bar) => (&line[..bar], &line[bar + 1..]),
            None => (&b"contentBlockDelta"[..], line),
        };
        let kind = String::from_utf8_lossy(kind);
        let kind: String = kind.chars().take(60).collect();
        let payload = &payload[..payload.len().min(60_000)];
        let framed = if let Some(exception_kind) = kind.strip_prefix('!') {
            message(
                &[
                    (":exception-type", exception_kind),
                    (":message-type", "exception"),
                ],
                payload,
            )
        } else if kind == "?" {
            message(&[], payload)
        } else {
            message(
                &[(":event-type", &kind), (":message-type", "event")],
                payload,
            )
        };
        body.extend(framed);
    }
    body
}

//! The event-stream framer: AWS's published test vectors, every way a message can be
//! corrupt, the caps, and the same frames and errors for a body split anywhere.

use super::encoder::{encode, event, Value};
use super::message::{crc32, Message, MAX_HEADERS};
use super::*;
use crate::framing::{bytewise, cut};
use futures::StreamExt;
use proptest::prelude::*;

/// The frames (as hex-free descriptions) or errors of `pieces`.
fn frames_capped(pieces: Vec<Vec<u8>>, max: usize) -> Vec<String> {
    let input = futures::stream::iter(pieces.into_iter().map(Ok::<_, ()>));
    futures::executor::block_on(
        EventStreamFrames::new(input, max)
            .map(|r| match r {
                Ok(frame) => {
                    let m = Message::read(&frame).unwrap();
                    format!(
                        "{:?} {:?} {:?} {}",
                        m.message_type,
                        m.event_type,
                        m.exception_type,
                        String::from_utf8_lossy(m.payload)
                    )
                }
                Err(EventStreamError::Corrupt(what)) => format!("ERR corrupt: {what}"),
                Err(EventStreamError::TooLong { max, length }) => {
                    format!("ERR too long {max} {length}")
                }
                Err(EventStreamError::Transport(())) => "ERR transport".into(),
            })
            .collect(),
    )
}

fn frames(pieces: Vec<Vec<u8>>) -> Vec<String> {
    frames_capped(pieces, 1 << 20)
}

/// AWS's event-stream test vectors, as aws-sdk-js-v3 publishes them
/// (`packages/eventstream-marshaller/src/TestVectors.fixture.ts`).
mod vectors {
    pub(super) const EMPTY_MESSAGE: &[u8] =
        &[0, 0, 0, 16, 0, 0, 0, 0, 5, 194, 72, 235, 125, 152, 200, 255];
    pub(super) const INT32_HEADER: &[u8] = &[
        0, 0, 0, 43, 0, 0, 0, 14, 52, 139, 236, 123, 8, 101, 118, 101, 110, 116, 45, 105, 100, 4,
        0, 0, 160, 12, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114, 39, 125, 211, 137, 2, 133,
    ];
    pub(super) const PAYLOAD_NO_HEADERS: &[u8] = &[
        0, 0, 0, 29, 0, 0, 0, 0, 253, 82, 140, 90, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114,
        39, 125, 195, 101, 57, 54,
    ];
    pub(super) const PAYLOAD_ONE_STR_HEADER: &[u8] = &[
        0, 0, 0, 61, 0, 0, 0, 32, 7, 253, 131, 150, 12, 99, 111, 110, 116, 101, 110, 116, 45, 116,
        121, 112, 101, 7, 0, 16, 97, 112, 112, 108, 105, 99, 97, 116, 105, 111, 110, 47, 106, 115,
        111, 110, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114, 39, 125, 141, 156, 8, 177,
    ];
    /// `PAYLOAD_ONE_STR_HEADER` with a byte of a header name changed (`-` to `+`).
    pub(super) const CORRUPTED_HEADERS: &[u8] = &[
        0, 0, 0, 61, 0, 0, 0, 32, 7, 253, 131, 150, 12, 99, 111, 110, 116, 101, 110, 116, 43, 116,
        121, 112, 101, 7, 0, 16, 97, 112, 112, 108, 105, 99, 97, 116, 105, 111, 110, 47, 106, 115,
        111, 110, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114, 39, 125, 141, 156, 8, 177,
    ];
    /// Its headers length changed, not its prelude CRC.
    pub(super) const CORRUPTED_HEADER_LEN: &[u8] = &[
        0, 0, 0, 61, 0, 0, 1, 32, 7, 253, 131, 150, 12, 99, 111, 110, 116, 101, 110, 116, 45, 116,
        121, 112, 101, 7, 0, 16, 97, 112, 112, 108, 105, 99, 97, 116, 105, 111, 110, 47, 106, 115,
        111, 110, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114, 39, 125, 141, 156, 8, 177,
    ];
    /// Its total length changed, not its prelude CRC.
    pub(super) const CORRUPTED_LENGTH: &[u8] = &[
        1, 0, 0, 29, 0, 0, 0, 0, 253, 82, 140, 90, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114,
        39, 125, 195, 101, 57, 54,
    ];
    /// A payload byte changed, not the message CRC.
    pub(super) const CORRUPTED_PAYLOAD: &[u8] = &[
        0, 0, 0, 29, 0, 0, 0, 0, 253, 82, 140, 90, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114,
        39, 141, 195, 101, 57, 54,
    ];
}

#[test]
fn the_published_vectors_decode_and_the_encoder_makes_them() {
    use vectors::*;
    assert_eq!(frames(vec![EMPTY_MESSAGE.to_vec()]), ["None None None "]);
    assert_eq!(encode(&[], b""), EMPTY_MESSAGE);
    assert_eq!(
        frames(vec![PAYLOAD_NO_HEADERS.to_vec()]),
        ["None None None {'foo':'bar'}"]
    );
    assert_eq!(encode(&[], b"{'foo':'bar'}"), PAYLOAD_NO_HEADERS);
    assert_eq!(
        encode(&[("event-id", Value::Int(0xa00c))], b"{'foo':'bar'}"),
        INT32_HEADER
    );
    assert_eq!(
        encode(
            &[("content-type", Value::Str("application/json".into()))],
            b"{'foo':'bar'}"
        ),
        PAYLOAD_ONE_STR_HEADER
    );
    for vector in [INT32_HEADER, PAYLOAD_ONE_STR_HEADER] {
        let got = frames(bytewise(vector));
        assert_eq!(got, ["None None None {'foo':'bar'}"]);
        let frame = Message::read(vector).unwrap();
        assert_eq!(frame.payload, b"{'foo':'bar'}");
    }
}

#[test]
fn the_published_corrupt_vectors_are_errors_that_say_what_failed() {
    use vectors::*;
    for (vector, what) in [
        (CORRUPTED_HEADERS, "message's CRC32"),
        (CORRUPTED_HEADER_LEN, "prelude's CRC32"),
        (CORRUPTED_LENGTH, "prelude's CRC32"),
        (CORRUPTED_PAYLOAD, "message's CRC32"),
    ] {
        for pieces in [vec![vector.to_vec()], bytewise(vector)] {
            let got = frames(pieces);
            assert_eq!(got.len(), 1, "{got:?}");
            assert!(
                got[0].starts_with("ERR corrupt") && got[0].contains(what),
                "{got:?}"
            );
        }
    }
}

#[test]
fn bedrock_events_come_out_with_their_headers() {
    let mut body = event("messageStart", r#"{"role":"assistant"}"#);
    body.extend(event("contentBlockDelta", r#"{"delta":{"text":"Hi"}}"#));
    body.extend(encode(
        &[
            (":exception-type", Value::Str("throttlingException".into())),
            (":message-type", Value::Str("exception".into())),
        ],
        br#"{"message":"slow down"}"#,
    ));
    let want = [
        r#"Some("event") Some("messageStart") None {"role":"assistant"}"#,
        r#"Some("event") Some("contentBlockDelta") None {"delta":{"text":"Hi"}}"#,
        r#"Some("exception") None Some("throttlingException") {"message":"slow down"}"#,
    ];
    assert_eq!(frames(vec![body.clone()]), want);
    assert_eq!(frames(bytewise(&body)), want);
}

#[test]
fn every_header_type_is_read_past() {
    let headers = [
        ("t", Value::True),
        ("f", Value::False),
        ("b", Value::Byte(-1)),
        ("s", Value::Short(-2)),
        ("i", Value::Int(3)),
        ("l", Value::Long(-4)),
        ("a", Value::Bytes(vec![0, 255, 7])),
        ("ts", Value::Timestamp(1_700_000_000_000)),
        ("u", Value::Uuid([9; 16])),
        (":event-type", Value::Str("x".into())),
    ];
    let message = encode(&headers, b"p");
    let read = Message::read(&message).unwrap();
    assert_eq!((read.event_type, read.payload), (Some("x"), &b"p"[..]));
    // A known header of another type than a string is not taken as one.
    let message = encode(&[(":event-type", Value::Int(7))], b"");
    assert_eq!(Message::read(&message).unwrap().event_type, None);
}

/// Found by the cross-check against botocore: a header name given twice was read (the
/// last value counting), where botocore refuses the message (`DuplicateHeader`).
#[test]
fn a_header_name_given_twice_is_refused_as_botocore_refuses_it() {
    for names in [[":event-type", ":event-type"], ["x-dup", "x-dup"]] {
        let message = encode(
            &[
                (names[0], Value::Str("first".into())),
                ("between", Value::True),
                (names[1], Value::Int(2)),
            ],
            b"",
        );
        let got = frames(vec![message]);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains(&format!("header '{}' is given twice", names[0])),
            "{got:?}"
        );
    }
}

/// `message` with its headers replaced by `headers` and both CRCs made right again.
fn with_raw_headers(headers: &[u8], payload: &[u8]) -> Vec<u8> {
    let total = 16 + headers.len() + payload.len();
    let mut out = Vec::new();
    out.extend((total as u32).to_be_bytes());
    out.extend((headers.len() as u32).to_be_bytes());
    out.extend(crc32(&out).to_be_bytes());
    out.extend(headers);
    out.extend(payload);
    out.extend(crc32(&out).to_be_bytes());
    out
}

#[test]
fn headers_that_do_not_parse_are_errors_that_say_why() {
    for (headers, what) in [
        (&[3, b'a', b'b'][..], "name runs past"),
        (&[1, b'a', 42][..], "unknown type (42)"),
        (&[1, b'a', 4, 0, 0][..], "value runs past"),
        (&[1, b'a', 7, 0][..], "value length runs past"),
        (&[1, b'a', 7, 0, 5, b'x'][..], "value runs past"),
        (&[1, b'a', 7, 0, 1, 0xff][..], "not UTF-8"),
        (&[1, 0xff, 0][..], "name is not UTF-8"),
    ] {
        let message = with_raw_headers(headers, b"{}");
        let got = frames(vec![message.clone()]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("ERR corrupt") && got[0].contains(what),
            "{what}: {got:?}"
        );
        assert_eq!(frames(bytewise(&message)), got);
    }
}

#[test]
fn lengths_that_do_not_fit_are_errors() {
    for (total, headers) in [(15u32, 0u32), (16, 1), (20, 5), (0, 0)] {
        let mut message = Vec::new();
        message.extend(total.to_be_bytes());
        message.extend(headers.to_be_bytes());
        message.extend(crc32(&message).to_be_bytes());
        message.extend([0u8; 8]);
        let got = frames(vec![message]);
        assert!(
            got[0].contains("lengths do not fit"),
            "{total} {headers}: {got:?}"
        );
    }
}

#[test]
fn the_caps_on_messages_and_headers() {
    let message = event(
        "contentBlockDelta",
        &format!("{{\"x\":\"{}\"}}", "y".repeat(100)),
    );
    let len = message.len();
    assert_eq!(frames_capped(vec![message.clone()], len).len(), 1);
    assert!(!frames_capped(vec![message.clone()], len)[0].starts_with("ERR"));
    // One byte less: refused on its prelude, before the rest is read.
    let want = vec![format!("ERR too long {} {len}", len - 1)];
    assert_eq!(frames_capped(vec![message.clone()], len - 1), want);
    assert_eq!(frames_capped(vec![message[..12].to_vec()], len - 1), want);
    assert_eq!(frames_capped(bytewise(&message), len - 1), want);
    // Headers past 128 KiB, whatever the cap on messages.
    let mut huge = Vec::new();
    huge.extend(((MAX_HEADERS + 17) as u32).to_be_bytes());
    huge.extend(((MAX_HEADERS + 1) as u32).to_be_bytes());
    huge.extend(crc32(&huge).to_be_bytes());
    let got = frames_capped(vec![huge], usize::MAX);
    assert!(got[0].contains("more than the 131072 allowed"), "{got:?}");
}

#[test]
fn a_message_within_one_read_is_not_copied() {
    let mut body = event("a", "{}");
    body.extend(event("b", "{}"));
    let read = Bytes::from(body);
    let input = futures::stream::iter(vec![Ok::<_, ()>(read.clone())]);
    let got: Vec<_> = futures::executor::block_on(EventStreamFrames::new(input, 1 << 20).collect());
    let first = got[0].as_ref().unwrap();
    let second = got[1].as_ref().unwrap();
    assert_eq!(first.as_ptr(), read.as_ptr());
    assert_eq!(second.as_ptr(), read[first.len()..].as_ptr());
}

#[test]
fn a_message_cut_off_by_the_end_of_the_body_is_dropped_and_transport_errors_end_it() {
    let mut body = event("a", "{}");
    let second = event("b", "{}");
    body.extend(&second[..second.len() - 1]);
    assert_eq!(frames(vec![body.clone()]).len(), 1);
    assert_eq!(frames(bytewise(&body)).len(), 1);
    let input = futures::stream::iter(vec![Ok(Bytes::from(event("a", "{}"))), Err(())]);
    let got: Vec<_> = futures::executor::block_on(EventStreamFrames::new(input, 1 << 20).collect());
    assert!(matches!(got[1], Err(EventStreamError::Transport(()))));
}

/// A body of a few Bedrock-shaped events, maybe with one byte flipped.
fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    let one = (
        prop::sample::select(vec!["messageStart", "contentBlockDelta", "metadata", ""]),
        "[a-z\"{}:é🦀 ]{0,40}",
    );
    (
        prop::collection::vec(one, 0..6),
        prop::option::of((any::<prop::sample::Index>(), 1u8..=255)),
    )
        .prop_map(|(events, flip)| {
            let mut body: Vec<u8> = events
                .iter()
                .flat_map(|(kind, payload)| event(kind, payload))
                .collect();
            if let (Some((at, bits)), false) = (flip, body.is_empty()) {
                let i = at.index(body.len());
                body[i] ^= bits;
            }
            body
        })
}

proptest! {
    #[test]
    fn any_split_gives_the_same_frames_and_errors(
        body in body_strategy(),
        cuts in prop::collection::vec(0usize..600, 0..20),
    ) {
        let whole = frames(vec![body.clone()]);
        prop_assert_eq!(frames(cut(&body, cuts)), whole.clone());
        prop_assert_eq!(frames(bytewise(&body)), whole);
    }

    /// Where the cap fires does not depend on the split either.
    #[test]
    fn any_split_gives_the_same_frames_and_errors_at_the_cap(
        body in body_strategy(),
        cuts in prop::collection::vec(0usize..600, 0..20),
        max in 0usize..120,
    ) {
        let whole = frames_capped(vec![body.clone()], max);
        prop_assert_eq!(frames_capped(cut(&body, cuts), max), whole);
    }

    /// Any bytes at all: no panic, and the same for every split.
    #[test]
    fn any_bytes_give_the_same_for_every_split(
        body in prop::collection::vec(any::<u8>(), 0..200),
        cuts in prop::collection::vec(0usize..200, 0..10),
    ) {
        let whole = frames(vec![body.clone()]);
        prop_assert_eq!(frames(cut(&body, cuts)), whole);
    }
}

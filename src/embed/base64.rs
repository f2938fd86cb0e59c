//! Base64 vectors: OpenAI's `encoding_format: "base64"` sends each embedding as the
//! standard base64 (RFC 4648) of its numbers as 32-bit floats, little-endian.

/// The numbers in `text`: standard base64 (padding optional) of little-endian `f32`s.
///
/// # Errors
/// What is wrong, for a message: a character outside the alphabet, a length no base64
/// has, or bytes that are not a whole number of floats.
pub(crate) fn decode_f32_le(text: &str) -> Result<Vec<f32>, String> {
    let bytes = decode(text.as_bytes())?;
    if bytes.len() % 4 != 0 {
        return Err(format!(
            "a base64 embedding of {} bytes, not a whole number of 32-bit floats",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// The value of a base64 digit.
fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Standard base64, with or without its `=` padding.
fn decode(text: &[u8]) -> Result<Vec<u8>, String> {
    let data = match text {
        [rest @ .., b'=', b'='] if text.len().is_multiple_of(4) => rest,
        [rest @ .., b'='] if text.len().is_multiple_of(4) => rest,
        _ => text,
    };
    if data.len() % 4 == 1 {
        return Err(format!(
            "a base64 embedding of {} characters, a length base64 never has",
            text.len()
        ));
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    for group in data.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in group.iter().enumerate() {
            let v = sextet(c).ok_or_else(|| {
                format!(
                    "a base64 embedding with {:?} in it, not a base64 character",
                    char::from(c)
                )
            })?;
            n |= v << (18 - 6 * i);
        }
        let [_, a, b, c] = n.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..group.len() - 1]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::base64;

    fn encode(values: &[f32]) -> String {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        base64(&bytes)
    }

    #[test]
    fn floats_round_trip_little_endian() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            3.25e-8,
            f32::MAX,
            f32::MIN_POSITIVE,
            0.1,
        ];
        for n in 0..=values.len() {
            let text = encode(&values[..n]);
            let back = decode_f32_le(&text).unwrap();
            assert_eq!(back.len(), n);
            for (a, b) in back.iter().zip(&values[..n]) {
                assert_eq!(a.to_bits(), b.to_bits());
            }
            // Without padding too.
            assert_eq!(decode_f32_le(text.trim_end_matches('=')).unwrap().len(), n);
        }
        // 1.0f32 is 00 00 80 3f little-endian.
        assert_eq!(decode_f32_le("AACAPw==").unwrap(), [1.0]);
        // Big-endian reading would give a tiny denormal instead.
        assert_ne!(decode_f32_le("P4AAAA==").unwrap(), [1.0]);
    }

    #[test]
    fn what_is_not_base64_of_floats_is_an_error_not_a_panic() {
        for bad in [
            "AACAPw=",
            "A",
            "AAC",
            "AACA Pw==",
            "AACAPw==AACAPw==",
            "AA-APw==",
            "é",
        ] {
            assert!(decode_f32_le(bad).is_err(), "{bad:?}");
        }
        assert_eq!(decode_f32_le("").unwrap(), Vec::<f32>::new());
        assert_eq!(decode_f32_le("AAAAAA==").unwrap(), [0.0]);
    }
}

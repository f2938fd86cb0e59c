//! [`Vector`]: one embedding as a server sends it, a JSON array of numbers or a base64
//! string of little-endian floats, read without building a JSON tree and never longer
//! than [`MAX_DIMENSIONS`](super::MAX_DIMENSIONS).

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _, SeqAccess, Visitor};

use super::{decode_f32_le, MAX_DIMENSIONS};

/// One embedding, read from either encoding. Numbers too large for an `f32` read as
/// infinite, which the collector refuses with the others that are not finite.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Vector(pub(crate) Vec<f32>);

impl<'de> Deserialize<'de> for Vector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Vector, D::Error> {
        deserializer.deserialize_any(VectorVisitor)
    }
}

struct VectorVisitor;

impl<'de> Visitor<'de> for VectorVisitor {
    type Value = Vector;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an embedding: an array of numbers, or a base64 string of 32-bit floats")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vector, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        // Read as f64 and narrowed here, so a number past f32 is infinite (refused by
        // the collector with the others that are not finite) whether or not another
        // crate in the build turns on serde_json's `float_roundtrip`, which makes
        // serde_json refuse it by itself, in other words.
        while let Some(value) = seq.next_element::<f64>()? {
            if values.len() == MAX_DIMENSIONS {
                return Err(A::Error::custom(too_long()));
            }
            values.push(value as f32);
        }
        Ok(Vector(values))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Vector, E> {
        // 4 bytes a number, 3 bytes per 4 characters.
        if text.len() / 4 * 3 > MAX_DIMENSIONS * 4 + 3 {
            return Err(E::custom(too_long()));
        }
        decode_f32_le(text).map(Vector).map_err(E::custom)
    }
}

fn too_long() -> String {
    format!("an embedding longer than {MAX_DIMENSIONS} numbers")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<Vec<f32>, String> {
        serde_json::from_str::<Vector>(json)
            .map(|v| v.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn either_encoding_reads() {
        assert_eq!(read("[0.5, -1, 2e-3]").unwrap(), [0.5, -1.0, 0.002]);
        assert_eq!(read("\"AACAPw==\"").unwrap(), [1.0]);
        // An escaped slash is still base64.
        assert_eq!(read(r#""AAAAAAAAAAAAAAA\/""#).unwrap().len(), 3);
        assert_eq!(read("[]").unwrap(), Vec::<f32>::new());
    }

    #[test]
    fn what_is_not_an_embedding_is_an_error_not_a_panic() {
        for bad in [
            "null",
            "{}",
            "[\"a\"]",
            "[1, null]",
            "\"@@@@\"",
            "true",
            "[[1]]",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        // Out of f32 range: infinite, for the collector to refuse.
        assert!(read("[1e300]").unwrap()[0].is_infinite());
    }

    proptest::proptest! {
        /// Whatever a server sends, reading it ends in a vector or an error, never a
        /// panic; and floats written in base64 read back bit for bit.
        #[test]
        fn any_text_reads_or_fails_and_base64_round_trips(
            text in "\\PC{0,64}",
            values in proptest::collection::vec(proptest::num::f32::ANY, 0..40),
        ) {
            let _ = read(&text);
            let _ = read(&format!("\"{text}\""));
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            let json = format!("\"{}\"", crate::request::base64(&bytes));
            let back = read(&json).unwrap();
            proptest::prop_assert_eq!(
                back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn an_endless_vector_stops_at_the_cap() {
        let long = format!("[{}0]", "0,".repeat(MAX_DIMENSIONS));
        assert!(read(&long).unwrap_err().contains("longer than"));
        let just = format!("[{}0]", "0,".repeat(MAX_DIMENSIONS - 1));
        assert_eq!(read(&just).unwrap().len(), MAX_DIMENSIONS);
        let bytes = vec![0u8; (MAX_DIMENSIONS + 1) * 4];
        let text = format!("\"{}\"", crate::request::base64(&bytes));
        assert!(read(&text).unwrap_err().contains("longer than"));
    }
}

//! Numbers as servers report them, read with one rule for every provider.
//!
//! A count (tokens, nanoseconds, an index) is a JSON number that is a whole number from
//! 0 to [`MAX_REPORTED`]: `12` or `12.0`. Anything else is not a count: a negative or
//! fractional number, one too large to be real (`1e30`), a string (`"12"`), a bool, an
//! object. Such a value is [`Reported::Invalid`], which the providers treat as "not
//! reported": the count is estimated and flagged, never taken at face value and never
//! a reason to lose the reply.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The largest count taken as real (2^50, about 1.1e15): no reply has that many tokens,
/// and no request lasts that many nanoseconds (13 days).
pub const MAX_REPORTED: u64 = 1 << 50;

/// A count a server reported, or did not, read by the crate's one rule for counts (see
/// [`kit`](crate::kit)): a whole number from 0 to [`MAX_REPORTED`], else not a count.
/// Use it as a field type in a decoder's serde types (`#[serde(default)]`).
///
/// ```
/// use theory_llm::kit::Reported;
///
/// #[derive(serde::Deserialize)]
/// struct Usage {
///     #[serde(default)]
///     output_tokens: Reported,
/// }
/// let u: Usage = serde_json::from_str(r#"{"output_tokens": 12}"#).unwrap();
/// assert_eq!(u.output_tokens.value(), Some(12));
/// let u: Usage = serde_json::from_str(r#"{"output_tokens": "12"}"#).unwrap();
/// assert_eq!(u.output_tokens.value(), None); // a string is not a count
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reported {
    /// The field was absent or `null`.
    #[default]
    Missing,
    /// The field held something that is not a count (see the module docs).
    Invalid,
    /// A count.
    Value(u64),
}

impl Reported {
    /// The count, if there is one.
    pub fn value(self) -> Option<u64> {
        match self {
            Reported::Value(n) => Some(n),
            Reported::Missing | Reported::Invalid => None,
        }
    }

    /// Whether the field was present at all (even with a value that is not a count).
    pub fn is_present(self) -> bool {
        self != Reported::Missing
    }

    fn of_float(f: f64) -> Reported {
        if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= MAX_REPORTED as f64 {
            Reported::Value(f as u64)
        } else {
            Reported::Invalid
        }
    }
}

impl<'de> Deserialize<'de> for Reported {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Reported, D::Error> {
        struct Count;
        impl<'de> Visitor<'de> for Count {
            type Value = Reported;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a count")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Reported, E> {
                Ok(if v <= MAX_REPORTED {
                    Reported::Value(v)
                } else {
                    Reported::Invalid
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Reported, E> {
                Ok(u64::try_from(v).map_or(Reported::Invalid, |v| {
                    if v <= MAX_REPORTED {
                        Reported::Value(v)
                    } else {
                        Reported::Invalid
                    }
                }))
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Reported, E> {
                Ok(Reported::Invalid)
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Reported, E> {
                Ok(Reported::Invalid)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Reported, E> {
                Ok(Reported::of_float(v))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Reported, E> {
                Ok(Reported::Invalid)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Reported, E> {
                Ok(Reported::Invalid)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Reported, E> {
                Ok(Reported::Missing)
            }
            fn visit_none<E: de::Error>(self) -> Result<Reported, E> {
                Ok(Reported::Missing)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Reported, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Reported, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Reported::Invalid)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reported, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Reported::Invalid)
            }
        }
        d.deserialize_option(Count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Holder {
        #[serde(default)]
        n: Reported,
    }

    fn read(json: &str) -> Reported {
        serde_json::from_str::<Holder>(json).unwrap().n
    }

    #[test]
    fn one_rule_for_every_count() {
        assert_eq!(read("{}"), Reported::Missing);
        assert_eq!(read(r#"{"n":null}"#), Reported::Missing);
        assert_eq!(read(r#"{"n":12}"#), Reported::Value(12));
        assert_eq!(read(r#"{"n":12.0}"#), Reported::Value(12));
        assert_eq!(read(r#"{"n":0}"#), Reported::Value(0));
        assert_eq!(read(r#"{"n":1e3}"#), Reported::Value(1000));
        for invalid in [
            "-5",
            "-0.5",
            "1.5",
            "1e30",
            "18446744073709551615",
            "1125899906842625",
            "340282366920938463463374607431768211456",
            r#""12""#,
            "true",
            "[1]",
            r#"{"a":1}"#,
        ] {
            let r = read(&format!(r#"{{"n":{invalid}}}"#));
            assert_eq!(r, Reported::Invalid, "{invalid}");
            assert_eq!(r.value(), None);
            assert!(r.is_present());
        }
        assert_eq!(
            read(r#"{"n":1125899906842624}"#).value(),
            Some(MAX_REPORTED)
        );
    }
}

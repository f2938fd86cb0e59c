//! [`Text`]: the string a text, reasoning or refusal chunk carries.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// A piece of streamed text: what [`Chunk::Text`](crate::Chunk::Text),
/// [`Chunk::Reasoning`](crate::Chunk::Reasoning) and
/// [`Chunk::Refusal`](crate::Chunk::Refusal) carry, and what a
/// [`TextStream`](crate::stream::TextStream) yields.
///
/// It reads as a `&str` (it derefs to one) and converts to and from a `String`. A text
/// of up to 24 bytes (12 on 32-bit targets; a token is usually a few) is kept inline,
/// with no heap allocation: handing each token over in a `String` was the largest
/// single cost of a chunk that the crate could remove. A kept text costs 24 bytes when
/// it is that short, and 24 bytes plus its heap block when longer, like a `String`.
///
/// ```
/// use theory_llm::stream::Text;
///
/// let token = Text::from(" the");
/// let mut reply = String::new();
/// reply.push_str(&token);
/// assert_eq!(token, " the");
/// assert_eq!(format!("[{token}]"), "[ the]");
/// let owned: String = token.into();
/// assert_eq!(owned, " the");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(CompactString);

impl Text {
    /// The text as a `&str`.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The text as a `String` (a text kept inline is copied into a new one).
    #[inline]
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl Deref for Text {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Text {
    #[inline]
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl Borrow<str> for Text {
    #[inline]
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

/// As a `String`'s: the text, quoted and escaped.
impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Text {
    /// Copies `text` (inline when it is short).
    #[inline]
    fn from(text: &str) -> Text {
        Text(CompactString::new(text))
    }
}

impl From<String> for Text {
    /// Keeps `text`'s heap block when it is long; a short text moves inline.
    #[inline]
    fn from(text: String) -> Text {
        Text(CompactString::from(text))
    }
}

impl From<&String> for Text {
    #[inline]
    fn from(text: &String) -> Text {
        Text::from(text.as_str())
    }
}

impl From<Cow<'_, str>> for Text {
    #[inline]
    fn from(text: Cow<'_, str>) -> Text {
        match text {
            Cow::Borrowed(text) => Text::from(text),
            Cow::Owned(text) => Text::from(text),
        }
    }
}

impl From<char> for Text {
    fn from(c: char) -> Text {
        Text::from(c.encode_utf8(&mut [0; 4]) as &str)
    }
}

impl From<Text> for String {
    #[inline]
    fn from(text: Text) -> String {
        text.into_string()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl FromIterator<char> for Text {
    fn from_iter<I: IntoIterator<Item = char>>(chars: I) -> Text {
        Text(CompactString::from_iter(chars))
    }
}

impl<'a> FromIterator<&'a str> for Text {
    fn from_iter<I: IntoIterator<Item = &'a str>>(pieces: I) -> Text {
        Text(CompactString::from_iter(pieces))
    }
}

/// A reply's pieces joined: `stream.text().try_collect::<String>()`.
impl FromIterator<Text> for String {
    fn from_iter<I: IntoIterator<Item = Text>>(pieces: I) -> String {
        let mut joined = String::new();
        joined.extend(pieces);
        joined
    }
}

impl Extend<Text> for String {
    fn extend<I: IntoIterator<Item = Text>>(&mut self, pieces: I) {
        for piece in pieces {
            self.push_str(&piece);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_converts_like_a_string() {
        for s in [
            "",
            " the",
            "é日本語🙂",
            &"long text, past the inline size ".repeat(3),
        ] {
            let text = Text::from(s);
            assert_eq!(text, s);
            assert_eq!(&*text, s);
            assert_eq!(text.len(), s.len());
            assert_eq!(text.to_string(), s);
            assert_eq!(format!("{text:?}"), format!("{s:?}"));
            assert_eq!(String::from(text.clone()), s);
            assert_eq!(Text::from(s.to_owned()), text);
            assert_eq!(Text::from(Cow::Borrowed(s)), text);
            assert_eq!(s.chars().collect::<Text>(), text);
            let owned = s.to_owned();
            assert!(s == text && owned == text && *s == text);
        }
    }

    #[test]
    fn pieces_join_into_a_string() {
        let pieces = [Text::from("Hel"), Text::from("lo")];
        assert_eq!(pieces.iter().cloned().collect::<String>(), "Hello");
        assert_eq!(pieces.concat(), "Hello");
        let mut reply = String::from(">");
        reply.extend(pieces);
        assert_eq!(reply, ">Hello");
    }

    #[test]
    fn a_long_string_keeps_its_heap_block() {
        let long = "x".repeat(100);
        let at = long.as_ptr();
        let text = Text::from(long);
        assert_eq!(text.as_ptr(), at);
        let back = text.into_string();
        assert_eq!(back.as_ptr(), at);
    }

    #[test]
    fn a_token_is_kept_inline_in_the_size_of_a_string() {
        assert_eq!(std::mem::size_of::<Text>(), std::mem::size_of::<String>());
        // A chunk, and a stream item, are no larger than with a `String` (64-bit).
        if cfg!(target_pointer_width = "64") {
            assert_eq!(std::mem::size_of::<crate::Chunk>(), 32);
            assert_eq!(std::mem::size_of::<crate::Result<crate::Chunk>>(), 32);
        }
        let text = Text::from("24 bytes, kept inline!!!");
        assert_eq!(text.len(), 24);
        let inside = &text as *const Text as usize;
        let at = text.as_ptr() as usize;
        assert!((inside..inside + 24).contains(&at), "not inline");
    }

    #[test]
    fn serializes_as_a_string() {
        let text = Text::from("a \"quoted\" token");
        let json = serde_json::to_string(&text).unwrap();
        assert_eq!(json, r#""a \"quoted\" token""#);
        assert_eq!(serde_json::from_str::<Text>(&json).unwrap(), text);
    }
}

//! Keeping secrets out of what the crate shows: API keys and other credentials in
//! messages and reply metadata, passwords in URLs.
//!
//! The promise (SECURITY.md): a secret never appears in an error message, a `Debug`
//! output or reply metadata, even when a server echoes it back in part.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use crate::chunk::{Chunk, FinishReason, ThinkingBlock};
use crate::error::{Error, Result};

/// The marker that replaces a secret.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Secrets shorter than this are not searched for in text: a key of a few characters
/// (`OPENAI_API_KEY=e`) would blank ordinary words, and is no secret worth that.
pub(crate) const MIN_SECRET_CHARS: usize = 8;

/// The shortest run of a secret's characters that is hidden when it appears in text:
/// servers echo keys back in part (OpenAI's 401 quotes the first and last characters
/// with stars between; other servers quote a middle part).
pub(crate) const MIN_RUN_BYTES: usize = 6;

/// The secrets one provider holds, and the scrubbing of everything it passes on.
/// Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Arc<[Secret]>,
}

struct Secret {
    text: String,
    /// Every `MIN_RUN_BYTES`-byte window of `text`: where a match can start.
    windows: HashSet<[u8; MIN_RUN_BYTES]>,
}

impl Redactor {
    /// A redactor for these secrets; those shorter than [`MIN_SECRET_CHARS`] are left
    /// out (documented in SECURITY.md).
    pub(crate) fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Redactor {
        let secrets: Vec<Secret> = secrets
            .into_iter()
            .map(|s| s.as_ref().trim().to_owned())
            .filter(|s| s.chars().count() >= MIN_SECRET_CHARS)
            .map(|text| Secret {
                windows: text
                    .as_bytes()
                    .windows(MIN_RUN_BYTES)
                    .filter_map(|w| w.try_into().ok())
                    .collect(),
                text,
            })
            .collect();
        Redactor {
            secrets: secrets.into(),
        }
    }

    /// `text` with every run of [`MIN_RUN_BYTES`] or more characters of a secret
    /// replaced by [`REDACTED`].
    pub(crate) fn text(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |out, secret| secret.redact(&out))
    }

    /// `err` with its message scrubbed.
    pub(crate) fn error(&self, err: Error) -> Error {
        if self.secrets.is_empty() {
            return err;
        }
        let clean = self.text(err.message());
        err.with_message(clean)
    }

    /// A stream item scrubbed: an error's message, a tool call's id and name, and the
    /// metadata of a finish (the model, the response id, a reason of the server's own).
    /// Text, reasoning and arguments are the model's output and pass as they are.
    pub(crate) fn item(&self, item: Result<Chunk>) -> Result<Chunk> {
        if self.secrets.is_empty() {
            return item;
        }
        match item {
            Ok(Chunk::Finish(mut finish)) => {
                self.scrub(&mut finish.model);
                self.scrub(&mut finish.response_id);
                if let FinishReason::Other(reason) = &mut finish.reason {
                    *reason = self.text(reason);
                }
                for block in &mut finish.reasoning_blocks {
                    self.block(block);
                }
                Ok(Chunk::Finish(finish))
            }
            Ok(Chunk::ToolCallStart(mut start)) => {
                start.id = self.text(&start.id);
                start.name = self.text(&start.name);
                Ok(Chunk::ToolCallStart(start))
            }
            Ok(Chunk::ToolCall(mut call)) => {
                call.id = self.text(&call.id);
                call.name = self.text(&call.name);
                Ok(Chunk::ToolCall(call))
            }
            Err(e) => Err(self.error(e)),
            other => other,
        }
    }

    /// What the server says about a reasoning block (signatures, opaque data, ids); the
    /// reasoning text is the model's, and passes as it is.
    fn block(&self, block: &mut ThinkingBlock) {
        match block {
            ThinkingBlock::Thinking { signature, .. } => *signature = self.text(signature),
            ThinkingBlock::RedactedThinking { data } => *data = self.text(data),
            ThinkingBlock::ThoughtSignature {
                signature,
                tool_call_id,
                ..
            } => {
                *signature = self.text(signature);
                self.scrub(tool_call_id);
            }
        }
    }

    fn scrub(&self, field: &mut Option<String>) {
        if let Some(text) = field.as_deref() {
            *field = Some(self.text(text));
        }
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Secret {
    fn redact(&self, text: &str) -> String {
        let (bytes, key) = (text.as_bytes(), self.text.as_bytes());
        let mut out = String::with_capacity(text.len());
        let (mut copied, mut i) = (0, 0);
        while i + MIN_RUN_BYTES <= bytes.len() {
            let window: Option<[u8; MIN_RUN_BYTES]> = bytes[i..i + MIN_RUN_BYTES].try_into().ok();
            let run = match window {
                Some(window) if text.is_char_boundary(i) && self.windows.contains(&window) => {
                    longest_run(&bytes[i..], key)
                }
                _ => 0,
            };
            // Only whole characters are hidden: round the end down to a boundary.
            let mut end = i + run;
            while end > i && !text.is_char_boundary(end) {
                end -= 1;
            }
            if end - i >= MIN_RUN_BYTES {
                out.push_str(&text[copied..i]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
            } else {
                i += 1;
            }
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// The length of the longest prefix of `text` that occurs somewhere in `key`.
fn longest_run(text: &[u8], key: &[u8]) -> usize {
    (0..key.len())
        .map(|j| {
            text.iter()
                .zip(&key[j..])
                .take_while(|(a, b)| a == b)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// `url` with the password of its user info replaced by [`REDACTED`]
/// (`http://admin:secret@host/v1` → `http://admin:[REDACTED]@host/v1`). Works on any
/// text that looks like a URL or a host (`admin:secret@host:11434`), parseable or not,
/// since it is used on bad input too: a password holding `/`, `?` or `#` (unencoded)
/// makes the URL unparseable, so the user info is taken to run to the last `@`, even
/// past those. A URL with `@` in its path may then show less than it could; it never
/// shows a password.
pub(crate) fn redact_url(url: &str) -> String {
    let start = url.find("://").map_or(0, |scheme_end| scheme_end + 3);
    let rest = &url[start..];
    let Some(at) = rest.rfind('@') else {
        return url.to_owned();
    };
    let Some((user, _password)) = rest[..at].split_once(':') else {
        return url.to_owned();
    };
    format!("{}{user}:{REDACTED}{}", &url[..start], &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{Finish, FinishReason};
    use crate::error::ErrorKind;

    fn redact(text: &str, secret: &str) -> String {
        Redactor::new([secret]).text(text)
    }

    #[test]
    fn whole_and_partial_keys_are_hidden() {
        let key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
        let msg = format!("Incorrect API key provided: {key}. Also sk-proj-abcdefgh****6789.");
        let out = redact(&msg, key);
        assert!(!out.contains(key), "{out}");
        assert!(!out.contains("sk-proj-abcdefgh"), "{out}");
        assert!(out.contains(REDACTED));
        assert_eq!(redact("nothing to hide", key), "nothing to hide");
    }

    #[test]
    fn a_middle_part_of_the_key_is_hidden_too() {
        // Regression (issue 11): `test-SECRET` survived from `sk-test-SECRET-key-value`.
        let key = "sk-test-SECRET-key-value";
        let out = redact("echo: test-SECRET and ET-key-v and abc", key);
        assert!(!out.contains("test-SECRET"), "{out}");
        assert!(!out.contains("ET-key-v"), "{out}");
        assert!(out.ends_with("and abc"), "{out}");
        // Runs of five characters are ordinary text.
        assert_eq!(redact("a test- b", key), "a test- b");
    }

    #[test]
    fn short_keys_do_not_mangle_messages() {
        // Regression (issue 11): `OPENAI_API_KEY=e` blanked every `e` in every message.
        assert_eq!(
            redact("the server said hello", "e"),
            "the server said hello"
        );
        assert_eq!(redact("abcdefg abcdefg", "abcdefg"), "abcdefg abcdefg");
        assert_eq!(redact("x", ""), "x");
    }

    #[test]
    fn multibyte_text_and_keys_are_cut_on_character_boundaries() {
        let key = "clé-secrète-ünïcödé-0123";
        let out = redact("before clé-secrète-ünï after ünïcödé- é", key);
        assert!(!out.contains("secrète"), "{out}");
        assert!(
            out.starts_with("before ") && out.contains(" after "),
            "{out}"
        );
        // A match that diverges inside a character (è and é share their first byte)
        // stops before that character.
        assert_eq!(
            redact("zz-secr\u{e9}", "zz-secr\u{e8}zz"),
            "[REDACTED]\u{e9}"
        );
    }

    #[test]
    fn errors_and_finishes_are_scrubbed_text_is_not() {
        let key = "sk-0123456789abcdef";
        let r = Redactor::new([key]);
        let err = r.error(Error::new(ErrorKind::Auth, format!("bad key {key}")).with_status(401));
        assert_eq!(err.to_string(), "bad key [REDACTED]");
        assert_eq!(err.status(), Some(401));
        let finish = r
            .item(Ok(Chunk::from(
                Finish::new(FinishReason::Stop).with_model(key),
            )))
            .unwrap();
        assert!(matches!(finish, Chunk::Finish(f) if f.model.as_deref() == Some(REDACTED)));
        let text = r.item(Ok(Chunk::Text(key.into()))).unwrap();
        assert_eq!(text, Chunk::Text(key.into()));
        assert!(!format!("{r:?}").contains(key));
    }

    #[test]
    fn url_passwords_are_hidden_user_names_kept() {
        assert_eq!(
            redact_url("http://admin:secret@host:8080/v1"),
            "http://admin:[REDACTED]@host:8080/v1"
        );
        assert_eq!(redact_url("https://user@host/v1"), "https://user@host/v1");
        // An `@` after the host cannot be told from one in a password holding `/`, `?`
        // or `#` (`a:b@c#d@host` leaked `c#d`): the user info runs to the last `@`.
        assert_eq!(
            redact_url("http://a:b@c@host/x?y=@z"),
            "http://a:[REDACTED]@z"
        );
        assert_eq!(
            redact_url("http://a:b@c#d@host/v1"),
            "http://a:[REDACTED]@host/v1"
        );
        assert_eq!(
            redact_url("admin:pa/ss@127.0.0.1:11434"),
            "admin:[REDACTED]@127.0.0.1:11434"
        );
        for plain in ["http://host/v1?x=a@b", "not a url", "host:11434", ""] {
            assert_eq!(redact_url(plain), plain);
        }
    }
}

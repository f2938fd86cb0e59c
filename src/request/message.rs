//! One turn of a conversation: [`Message`], its [`Role`], the [`Image`]s a user
//! attaches, and the reasoning a provider needs back ([`ProviderReasoning`]).

use serde::Serialize;

use crate::chunk::{ThinkingBlock, ToolCall};

/// Who wrote a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person talking to the model.
    User,
    /// The model's earlier replies (with the tool calls it made).
    Assistant,
    /// The result of a tool call, for the model to read.
    Tool,
}

impl Role {
    /// The wire name OpenAI and Ollama share: `"system"`, `"user"`, `"assistant"`, `"tool"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// An image given to the model with a user message.
///
/// ```
/// use theory_llm::Image;
///
/// let photo = Image::bytes("image/png", vec![0x89, b'P', b'N', b'G']);
/// assert_eq!(photo.data_url().as_deref(), Some("data:image/png;base64,iVBORw=="));
/// let remote = Image::url("https://example.com/cat.jpg");
/// assert_eq!(remote.data_url(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Image {
    /// An image on the web (or a `data:` URL), which the provider fetches.
    Url(String),
    /// The image itself, with its media type (`image/png`, `image/jpeg`, …).
    Bytes {
        /// The media type.
        media_type: String,
        /// The encoded image (PNG, JPEG, …), not base64.
        #[serde(skip)]
        data: Vec<u8>,
    },
}

impl Image {
    /// An image at `url`.
    pub fn url(url: impl Into<String>) -> Image {
        Image::Url(url.into())
    }

    /// An image from its bytes and media type.
    pub fn bytes(media_type: impl Into<String>, data: Vec<u8>) -> Image {
        Image::Bytes {
            media_type: media_type.into(),
            data,
        }
    }

    /// The image's media type and base64 data: for bytes, encoded; for a `data:` URL
    /// with base64 data, taken from it; `None` for a URL on the web.
    pub fn base64(&self) -> Option<(String, String)> {
        match self {
            Image::Bytes { media_type, data } => Some((media_type.clone(), base64(data))),
            Image::Url(url) => {
                let rest = url.strip_prefix("data:")?;
                let (meta, data) = rest.split_once(',')?;
                let media_type = meta.strip_suffix(";base64")?;
                Some((media_type.to_owned(), data.to_owned()))
            }
        }
    }

    /// The image as a `data:` URL (for bytes), the URL itself if it is one, else `None`.
    pub fn data_url(&self) -> Option<String> {
        match self {
            Image::Url(url) if url.starts_with("data:") => Some(url.clone()),
            Image::Url(_) => None,
            Image::Bytes { media_type, data } => {
                Some(format!("data:{media_type};base64,{}", base64(data)))
            }
        }
    }
}

/// Standard base64 (RFC 4648, with padding).
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 63) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if group.len() > 1 { sextet(6) } else { '=' });
        out.push(if group.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

/// Reasoning a provider wants sent back with the assistant turn that produced it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProviderReasoning {
    /// The reasoning text as the model gave it (DeepSeek's `reasoning_content`, which
    /// its API requires back on turns that called tools).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Anthropic's thinking blocks with their signatures, and Gemini's thought
    /// signatures, in order (required back, unmodified, in a tool loop with thinking
    /// on).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<ThinkingBlock>,
}

impl ProviderReasoning {
    /// Whether there is nothing to send back.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.blocks.is_empty()
    }
}

/// One turn of a conversation: text, and what else the turn carries: images (user),
/// the tool calls the model made (assistant), the call a result answers (tool), and
/// reasoning to send back.
///
/// ```
/// use theory_llm::{Image, Message, Role};
///
/// let ask = Message::user("What is in this picture?").image(Image::url("https://example.com/a.png"));
/// assert_eq!(ask.images.len(), 1);
/// let result = Message::tool_result("call_1", "get_weather", "18 °C");
/// assert_eq!((result.role, result.tool_call_id.as_deref()), (Role::Tool, Some("call_1")));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What was written (for a tool result: the result).
    pub content: String,
    /// Images attached to a user message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
    /// The tool calls an assistant turn made, with their ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a tool result: the id of the call it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For a tool result: the tool's name (Ollama wants it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// For an assistant turn: the reasoning to send back, where a provider requires it.
    #[serde(skip_serializing_if = "ProviderReasoning::is_empty")]
    pub reasoning: ProviderReasoning,
}

impl Message {
    /// A message with the given role.
    pub fn new(role: Role, content: impl Into<String>) -> Message {
        Message {
            role,
            content: content.into(),
            images: Vec::new(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            tool_name: None,
            reasoning: ProviderReasoning::default(),
        }
    }

    /// A system message (instructions).
    pub fn system(content: impl Into<String>) -> Message {
        Message::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Message {
        Message::new(Role::User, content)
    }

    /// An assistant message (an earlier reply, for multi-turn chats). A whole reply,
    /// with its tool calls and reasoning, becomes one with
    /// [`ChatReply::into_message`](crate::ChatReply::into_message).
    pub fn assistant(content: impl Into<String>) -> Message {
        Message::new(Role::Assistant, content)
    }

    /// The result of the tool call `call_id` (to tool `name`), for the model to read.
    pub fn tool_result(
        call_id: impl Into<String>,
        name: impl Into<String>,
        result: impl Into<String>,
    ) -> Message {
        Message {
            tool_call_id: Some(call_id.into()),
            tool_name: Some(name.into()),
            ..Message::new(Role::Tool, result)
        }
    }

    /// `self` with `image` attached.
    #[must_use]
    pub fn image(mut self, image: Image) -> Message {
        self.images.push(image);
        self
    }

    /// `self` with these tool calls (for an assistant turn).
    #[must_use]
    pub fn with_tool_calls(mut self, calls: impl IntoIterator<Item = ToolCall>) -> Message {
        self.tool_calls.extend(calls);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_rfc_4648() {
        for (raw, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn images_give_their_base64() {
        let png = Image::bytes("image/png", b"foo".to_vec());
        assert_eq!(png.base64(), Some(("image/png".into(), "Zm9v".into())));
        let data = Image::url("data:image/jpeg;base64,Zm9v");
        assert_eq!(data.base64(), Some(("image/jpeg".into(), "Zm9v".into())));
        assert_eq!(
            data.data_url().as_deref(),
            Some("data:image/jpeg;base64,Zm9v")
        );
        assert_eq!(Image::url("https://x/y.png").base64(), None);
        assert_eq!(Image::url("data:text/plain,hello").base64(), None);
    }
}

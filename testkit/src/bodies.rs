//! Synthetic reply bodies shaped like real ones: OpenAI `chat.completion.chunk` events
//! over SSE and Ollama `/api/chat` lines, with ASCII, multi-byte UTF-8 and escaped text.

/// The reply's tokens, cycled: mostly short ASCII words, some multi-byte UTF-8 (2, 3
/// and 4 bytes per character), and some that need JSON escapes.
const TOKENS: [&str; 16] = [
    " The",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " the",
    " lazy",
    " dog",
    ".",
    " Héllo",
    " 日本語",
    " 🦀",
    "\n",
    " \"quoted\"",
    " wörld",
];

/// The `i`-th token of a reply.
pub fn token(i: usize) -> &'static str {
    TOKENS[i % TOKENS.len()]
}

/// The text of a reply of `n` tokens.
pub fn text(n: usize) -> String {
    (0..n).map(token).collect()
}

/// `text` as a JSON string literal.
fn json_str(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// One OpenAI SSE event (with its blank line) carrying `text`.
pub fn openai_event(text: &str) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-AbCdEf0123456789\",\"object\":\"chat.completion.chunk\",\"created\":1732530000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n",
        json_str(text)
    )
}

/// The events after the last token: the finish reason, the usage, `[DONE]`.
pub fn openai_tail(n: usize) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-AbCdEf0123456789\",\"object\":\"chat.completion.chunk\",\"created\":1732530000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}]}}\n\n\
         data: {{\"id\":\"chatcmpl-AbCdEf0123456789\",\"object\":\"chat.completion.chunk\",\"created\":1732530000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[],\"usage\":{{\"prompt_tokens\":12,\"completion_tokens\":{n},\"total_tokens\":{}}}}}\n\n\
         data: [DONE]\n\n",
        n + 12
    )
}

/// One Ollama `/api/chat` line (with its newline) carrying `text`.
pub fn ollama_line(text: &str) -> String {
    format!(
        "{{\"model\":\"qwen2.5:0.5b\",\"created_at\":\"2024-11-25T10:27:25.123456789Z\",\"message\":{{\"role\":\"assistant\",\"content\":{}}},\"done\":false}}\n",
        json_str(text)
    )
}

/// The `done` line.
pub fn ollama_tail(n: usize) -> String {
    format!(
        "{{\"model\":\"qwen2.5:0.5b\",\"created_at\":\"2024-11-25T10:27:25.123456789Z\",\"message\":{{\"role\":\"assistant\",\"content\":\"\"}},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":5191566416,\"load_duration\":2154458,\"prompt_eval_count\":26,\"prompt_eval_duration\":383809000,\"eval_count\":{n},\"eval_duration\":4799921000}}\n"
    )
}

/// The wire format of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenAI Chat Completions over SSE.
    Sse,
    /// Ollama `/api/chat` NDJSON.
    Ndjson,
}

impl Format {
    /// One frame carrying `text`.
    pub fn frame(self, text: &str) -> String {
        match self {
            Format::Sse => openai_event(text),
            Format::Ndjson => ollama_line(text),
        }
    }

    /// The frames after `n` tokens.
    pub fn tail(self, n: usize) -> String {
        match self {
            Format::Sse => openai_tail(n),
            Format::Ndjson => ollama_tail(n),
        }
    }

    /// A whole body of `n` tokens, and where each frame ends.
    pub fn body(self, n: usize) -> (Vec<u8>, Vec<usize>) {
        let mut body = Vec::new();
        let mut ends = Vec::new();
        for i in 0..n {
            body.extend_from_slice(self.frame(token(i)).as_bytes());
            ends.push(body.len());
        }
        body.extend_from_slice(self.tail(n).as_bytes());
        ends.push(body.len());
        (body, ends)
    }
}

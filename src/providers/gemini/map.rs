//! [`GeminiDecoder`]: `GenerateContentResponse` chunks to chunks.
//!
//! - Each SSE event is one response object: the parts of its first candidate stream
//!   out in order (`parts.rs`), its `usageMetadata` replaces the counts before it (each
//!   chunk repeats the totals), its `modelVersion` and `responseId` are kept for the
//!   finish.
//! - `finishReason` says why the reply ended: `STOP` (tool calls, after calls);
//!   `MAX_TOKENS`; `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII` and
//!   the image ones are the content filter; `MALFORMED_FUNCTION_CALL` is a `protocol`
//!   error in the server's words; others are kept by name.
//! - There is no `[DONE]`: the end of the body after a `finishReason` is the end of the
//!   reply (the chunk after it may still bring the usage, with no candidates). A body
//!   that ends without one is truncated, never a short success.
//! - A blocked prompt (`promptFeedback.blockReason`, no candidates) is an
//!   `invalid_request` error, not an empty reply; an `error` object is the server's
//!   failure (`errors.rs`).
//! - A reply of `application/json` (a whole `generateContent` reply, or the JSON array
//!   of chunks `streamGenerateContent` sends without `alt=sse`) is one frame, decoded
//!   the same way.

use std::collections::VecDeque;

use crate::chunk::{Chunk, Finish, FinishReason};
use crate::decode::{Decoder, Flow};
use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::lenient::Reported;
use crate::origin::Origin;

use super::errors::stream_error;
use super::parts::Parts;
use super::wire;
use super::NAME;

/// The latest counts reported, each as the server last sent it.
#[derive(Debug, Clone, Copy, Default)]
struct Tokens {
    prompt: Reported,
    tool_prompt: Reported,
    candidates: Reported,
    thoughts: Reported,
    cached: Reported,
}

impl Tokens {
    fn update(&mut self, usage: &wire::Usage) {
        let take = |mine: &mut Reported, theirs: Reported| {
            if theirs.is_present() {
                *mine = theirs;
            }
        };
        take(&mut self.prompt, usage.prompt_token_count);
        take(&mut self.tool_prompt, usage.tool_use_prompt_token_count);
        take(&mut self.candidates, usage.candidates_token_count);
        take(&mut self.thoughts, usage.thoughts_token_count);
        take(&mut self.cached, usage.cached_content_token_count);
    }

    /// The prompt, and the prompt of built-in tools (billed as input; 0 when not
    /// reported).
    fn input(&self) -> Option<u64> {
        Some(
            self.prompt
                .value()?
                .saturating_add(zero_if_missing(self.tool_prompt)?),
        )
    }

    /// The reply and the thoughts (billed as output). Zero counts are left out by the
    /// API, so a missing one is 0 once the other is reported.
    fn output(&self) -> Option<u64> {
        if !self.candidates.is_present() && !self.thoughts.is_present() {
            return None;
        }
        Some(zero_if_missing(self.candidates)?.saturating_add(zero_if_missing(self.thoughts)?))
    }

    fn finish(&self, finish: Finish) -> Finish {
        finish
            .with_tokens(self.input(), self.output())
            .with_cache_tokens(self.cached.value(), None)
            .with_reasoning_tokens(self.thoughts.value())
    }
}

fn zero_if_missing(count: Reported) -> Option<u64> {
    match count {
        Reported::Missing => Some(0),
        other => other.value(),
    }
}

/// Maps the frames of one Gemini reply to chunks.
#[derive(Debug)]
pub struct GeminiDecoder {
    origin: Origin,
    parts: Parts,
    tokens: Tokens,
    finish_reason: Option<FinishReason>,
    response_id: Option<String>,
    model: Option<String>,
    /// A Gemini response object has been seen.
    recognized: bool,
    /// The start of the first frame, kept until one is recognized: a body of JSON that
    /// is not a Gemini reply is quoted in the error.
    first_frame: Option<String>,
}

impl GeminiDecoder {
    /// A decoder for one reply from `origin`.
    pub(crate) fn new(origin: Origin) -> GeminiDecoder {
        GeminiDecoder {
            origin,
            parts: Parts::default(),
            tokens: Tokens::default(),
            finish_reason: None,
            response_id: None,
            model: None,
            recognized: false,
            first_frame: None,
        }
    }

    fn malformed(&self, what: &str, frame: &str) -> Error {
        self.origin
            .malformed(&format!("an event is not {what}: {}", excerpt(frame, 200)))
    }

    /// One response object.
    fn response(&mut self, response: wire::Response<'_>, out: &mut VecDeque<Chunk>) -> Result<()> {
        if let Some(error) = response.error.filter(|e| !e.is_null()) {
            return Err(stream_error(&error));
        }
        if let Some(id) = response.response_id.filter(|id| !id.is_empty()) {
            if self.response_id.as_deref() != Some(&*id) {
                self.response_id = Some(id.into_owned());
            }
        }
        if let Some(model) = response.model_version.filter(|m| !m.is_empty()) {
            if self.model.as_deref() != Some(&*model) {
                self.model = Some(model.into_owned());
            }
        }
        if let Some(usage) = &response.usage_metadata {
            self.tokens.update(usage);
        }
        let first = response
            .candidates
            .into_iter()
            .flatten()
            .find(|c| c.index.value().unwrap_or(0) == 0);
        if let Some(candidate) = first {
            let parts = candidate.content.and_then(|c| c.parts).unwrap_or_default();
            for part in parts {
                let id = self.response_id.as_deref();
                self.parts.part(part, id, &self.origin, out)?;
            }
            if let Some(reason) = candidate.finish_reason.filter(|r| !r.is_empty()) {
                self.finish_reason =
                    Some(finish_reason(&reason, candidate.finish_message.as_deref())?);
            }
        }
        match response.prompt_feedback.as_ref().and_then(blocked) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// The end of the reply. Gemini says `STOP` after calls: the reply ends for them.
    fn finish(&mut self, reason: FinishReason, out: &mut VecDeque<Chunk>) {
        let reason = match reason {
            FinishReason::Stop if self.parts.made_calls() => FinishReason::ToolCalls,
            other => other,
        };
        let mut finish = self.tokens.finish(Finish::new(reason));
        finish.reasoning_blocks = self.parts.take_signatures();
        if let Some(id) = self.response_id.take() {
            finish = finish.with_response_id(id);
        }
        if let Some(model) = self.model.take() {
            finish = finish.with_model(model);
        }
        out.push_back(Chunk::from(finish));
    }
}

/// The error for a prompt the API blocked (it says why in `blockReason`).
fn blocked(feedback: &wire::PromptFeedback<'_>) -> Option<Error> {
    let reason = feedback
        .block_reason
        .as_deref()
        .filter(|r| !r.is_empty() && *r != "BLOCKED_REASON_UNSPECIFIED")?;
    let said = feedback
        .block_reason_message
        .as_deref()
        .filter(|m| !m.is_empty())
        .map(|m| format!(": {}", m.trim_end_matches('.')))
        .unwrap_or_default();
    Some(Error::new(
        ErrorKind::InvalidRequest,
        format!("{NAME} blocked the prompt ({reason}){said}. Nothing was generated: change the prompt (or the request's safety settings) and send it again"),
    ))
}

/// What a `finishReason` means; `MALFORMED_FUNCTION_CALL` is an error.
fn finish_reason(reason: &str, message: Option<&str>) -> Result<FinishReason> {
    Ok(match reason {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION"
        | "MODEL_ARMOR" => FinishReason::ContentFilter,
        "MALFORMED_FUNCTION_CALL" => {
            let said = message
                .filter(|m| !m.is_empty())
                .map(|m| format!(": {}", excerpt(m.trim_end_matches('.'), 500)))
                .unwrap_or_default();
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("{NAME}: the model made a malformed function call (MALFORMED_FUNCTION_CALL){said}. Retry the request, or simplify the tools' schemas"),
            ));
        }
        // LANGUAGE, OTHER, UNEXPECTED_TOOL_CALL, ... by name.
        other => FinishReason::Other(other.to_ascii_lowercase()),
    })
}

impl Decoder for GeminiDecoder {
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let text = std::str::from_utf8(frame).map_err(|e| {
            self.malformed(&format!("UTF-8 ({e})"), &String::from_utf8_lossy(frame))
        })?;
        let responses: Vec<wire::Response<'_>> = if text.trim_start().starts_with('[') {
            serde_json::from_str(text).map_err(|e| {
                self.malformed(&format!("a JSON array of Gemini responses ({e})"), text)
            })?
        } else {
            let response = serde_json::from_str(text)
                .map_err(|e| self.malformed(&format!("a Gemini response ({e})"), text))?;
            vec![response]
        };
        for response in responses {
            if !self.recognized {
                self.recognized = response.candidates.is_some()
                    || response.usage_metadata.is_some()
                    || response.prompt_feedback.is_some()
                    || response.error.is_some();
                if !self.recognized && self.first_frame.is_none() {
                    self.first_frame = Some(excerpt(text, 200));
                }
            }
            self.response(response, out)?;
        }
        Ok(Flow::Continue)
    }

    fn end_of_body(&mut self, out: &mut VecDeque<Chunk>) -> Result<()> {
        if let Some(reason) = self.finish_reason.take() {
            self.finish(reason, out);
            return Ok(());
        }
        match (self.recognized, &self.first_frame) {
            // Not a short reply but no reply at all: something else answered.
            (false, Some(first)) => Err(self.origin.malformed(&format!(
                "the body ({}) holds no Gemini reply; it starts: {first}",
                self.origin.media_type().unwrap_or("no content type")
            ))),
            _ => Err(self.origin.truncated("a finishReason")),
        }
    }
}

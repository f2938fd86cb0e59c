//! [`Parts`]: the parts of one reply's candidate, as they stream: text and thoughts
//! pass on as chunks, function calls become tool calls (whole: start, one delta,
//! complete), and thought signatures are kept for the next turn with what they came on.

use std::collections::VecDeque;

use crate::chunk::{Chunk, ThinkingBlock, ToolCall};
use crate::error::Result;
use crate::origin::{Held, Origin};

use super::wire;

/// What the parts of one reply leave behind.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    /// Tool calls so far.
    calls: usize,
    /// The text of the thought parts since the last part that was not an unsigned
    /// thought: a signature on the next thought part signs all of it.
    thought_run: String,
    /// The signatures, in the reply's order.
    signatures: Vec<ThinkingBlock>,
    /// What is kept (thought runs, signatures and the ids they belong to), counted
    /// toward the reply's cap.
    held: Held,
}

impl Parts {
    /// One part of the reply. `response_id` (the reply's, if known) makes the ids of
    /// calls the server sent without one.
    pub(crate) fn part(
        &mut self,
        part: wire::Part<'_>,
        response_id: Option<&str>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        let wire::Part {
            text,
            thought,
            thought_signature,
            function_call,
        } = part;
        if let Some(mut call) = function_call {
            let signature = thought_signature.or_else(|| call.thought_signature.take());
            let id = self.call(call, response_id, origin, out)?;
            self.thought_run.clear();
            return self.sign(signature.as_deref(), Some(id), None, origin);
        }
        let text = text.unwrap_or_default();
        if thought {
            if !text.is_empty() {
                self.held.take(text.len(), origin)?;
                self.thought_run.push_str(&text);
                out.push_back(Chunk::Reasoning(text.into()));
            }
            if thought_signature.is_some() {
                let run = std::mem::take(&mut self.thought_run);
                return self.sign(thought_signature.as_deref(), None, Some(run), origin);
            }
            return Ok(());
        }
        // Text, or a kind of part this crate does not read (inline data, code).
        self.thought_run.clear();
        if !text.is_empty() {
            out.push_back(Chunk::Text(text.into()));
        }
        self.sign(thought_signature.as_deref(), None, None, origin)
    }

    /// Whether the reply called a tool.
    pub(crate) fn made_calls(&self) -> bool {
        self.calls > 0
    }

    /// The signatures to send back with the turn, in order.
    pub(crate) fn take_signatures(&mut self) -> Vec<ThinkingBlock> {
        std::mem::take(&mut self.signatures)
    }

    /// A function call, whole: its three chunks. Returns its id.
    fn call(
        &mut self,
        call: wire::FunctionCall<'_>,
        response_id: Option<&str>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<String> {
        let number = self.calls;
        let name = call.name.map(|n| n.into_owned()).unwrap_or_default();
        if name.is_empty() {
            return Err(origin.malformed(&format!(
                "function call {number} (a functionCall part) has no name"
            )));
        }
        self.calls = self.calls.saturating_add(1);
        let id = match call.id.filter(|id| !id.is_empty()) {
            Some(id) => id.into_owned(),
            None => made_up_id(response_id, number),
        };
        let arguments = match call.args {
            None | Some(serde_json::Value::Null) => serde_json::Value::Object(Default::default()),
            Some(args) => args,
        };
        out.push_back(Chunk::tool_call_start(number, id.clone(), name.clone()));
        out.push_back(Chunk::tool_call_delta(number, arguments.to_string()));
        out.push_back(Chunk::from(ToolCall::new(id.clone(), name, arguments)));
        Ok(id)
    }

    /// Keeps `signature` (if there is one, and it is not empty) with what it came on.
    fn sign(
        &mut self,
        signature: Option<&str>,
        tool_call_id: Option<String>,
        thought: Option<String>,
        origin: &Origin,
    ) -> Result<()> {
        let Some(signature) = signature.filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        let len = signature
            .len()
            .saturating_add(tool_call_id.as_deref().map_or(0, str::len));
        self.held.take(len, origin)?;
        self.signatures.push(ThinkingBlock::ThoughtSignature {
            signature: signature.to_owned(),
            tool_call_id,
            thought,
        });
        Ok(())
    }
}

/// The id of a call the server sent without one: unique within the conversation when
/// the reply has an id, and the same for the same reply however its bytes arrive.
fn made_up_id(response_id: Option<&str>, number: usize) -> String {
    match response_id.filter(|id| !id.is_empty()) {
        Some(response) => format!("call_{response}_{number}"),
        None => format!("call_{number}"),
    }
}

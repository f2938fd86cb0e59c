//! The content blocks of one Converse reply, tracked by their `contentBlockIndex` from
//! start to stop: text and reasoning stream out as they come; a reasoning block's
//! signature is kept with its text, and redacted reasoning as it came, for the next
//! turn; a tool call is announced at its start, its input gathered from its deltas (a
//! JSON text in fragments) and parsed once, when its block stops.
//!
//! Tolerated: deltas of a block that never started (text and reasoning are taken
//! anyway: Bedrock starts text blocks only sometimes), a block that never stops
//! (completed at `messageStop`), and kinds this crate does not read (citations).

use std::collections::VecDeque;

use crate::chunk::{Chunk, ThinkingBlock, ToolCall};
use crate::error::Result;
use crate::origin::{Held, Origin};

use super::wire;

/// The most blocks open at once: the API streams one at a time, so more is a server
/// gone wrong (and would make every lookup slower).
const MAX_OPEN: usize = 256;

/// A block that has started and not stopped, as far as it needs keeping.
#[derive(Debug)]
enum Open {
    Reasoning {
        text: String,
        signature: String,
    },
    ToolUse {
        /// Its number among the reply's calls (the chunks' `index`).
        number: usize,
        id: String,
        name: String,
        /// The input's fragments so far.
        input: String,
    },
}

/// The blocks of one reply.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    open: Vec<(u64, Open)>,
    /// Tool calls begun.
    calls: usize,
    /// Reasoning to send back, with the index it had.
    kept: Vec<(u64, ThinkingBlock)>,
    /// What the blocks keep (reasoning and signatures, redacted reasoning, tool names,
    /// ids and inputs), counted toward the reply's cap.
    held: Held,
}

impl Blocks {
    /// A `contentBlockStart`: a tool call is announced; other blocks wait for deltas.
    /// A block started again at an open index completes the old one.
    pub(crate) fn start(
        &mut self,
        index: u64,
        start: Option<&wire::Start<'_>>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        self.stop(index, out)?;
        let Some(tool) = start.and_then(|s| s.tool_use.as_ref()) else {
            return Ok(());
        };
        let number = self.calls;
        let name = tool.name.as_deref().unwrap_or("");
        if name.is_empty() {
            return Err(origin.malformed(&format!(
                "tool call {number} (a toolUse block) has no tool name"
            )));
        }
        let id = match tool.tool_use_id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => id.to_owned(),
            None => format!("tooluse_{number}"),
        };
        self.held
            .take(id.len().saturating_add(name.len()), origin)?;
        self.open_block(index, origin)?;
        self.calls = self.calls.saturating_add(1);
        out.push_back(Chunk::tool_call_start(number, id.clone(), name));
        self.open.push((
            index,
            Open::ToolUse {
                number,
                id,
                name: name.to_owned(),
                input: String::new(),
            },
        ));
        Ok(())
    }

    /// A `contentBlockDelta`.
    pub(crate) fn delta(
        &mut self,
        index: u64,
        delta: wire::Delta<'_>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        if let Some(text) = delta.text.filter(|t| !t.is_empty()) {
            out.push_back(Chunk::Text(text.into()));
        }
        if let Some(tool) = delta.tool_use {
            let piece = tool.input.unwrap_or_default();
            self.held.take(piece.len(), origin)?;
            let Some(Open::ToolUse { number, input, .. }) = self.open_at(index) else {
                return Err(origin.malformed(&format!(
                    "tool input arrived for block {index}, which did not start as a tool call"
                )));
            };
            if !piece.is_empty() {
                input.push_str(&piece);
                out.push_back(Chunk::tool_call_delta(*number, piece.into_owned()));
            }
        }
        if let Some(reasoning) = delta.reasoning_content {
            self.reasoning(index, reasoning, origin, out)?;
        }
        Ok(())
    }

    fn reasoning(
        &mut self,
        index: u64,
        delta: wire::ReasoningDelta<'_>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        if let Some(data) = delta.redacted_content.filter(|d| !d.is_empty()) {
            self.held.take(data.len(), origin)?;
            let data = data.into_owned();
            self.kept
                .push((index, ThinkingBlock::RedactedThinking { data }));
        }
        let text = delta.text.filter(|t| !t.is_empty());
        let signature = delta.signature.filter(|s| !s.is_empty());
        if text.is_none() && signature.is_none() {
            return Ok(());
        }
        let kept = [&text, &signature].map(|t| t.as_deref().map_or(0, str::len));
        self.held.take(kept[0].saturating_add(kept[1]), origin)?;
        if self.open_at(index).is_none() {
            self.open_block(index, origin)?;
            let empty = Open::Reasoning {
                text: String::new(),
                signature: String::new(),
            };
            self.open.push((index, empty));
        }
        match self.open_at(index) {
            Some(Open::Reasoning {
                text: all,
                signature: kept,
            }) => {
                if let Some(text) = &text {
                    all.push_str(text);
                }
                if let Some(signature) = signature {
                    // Sent once, whole: it replaces, never appends.
                    *kept = signature.into_owned();
                }
            }
            _ => {
                return Err(origin.malformed(&format!(
                    "reasoning arrived for block {index}, which is a tool call"
                )))
            }
        }
        if let Some(text) = text {
            out.push_back(Chunk::Reasoning(text.into()));
        }
        Ok(())
    }

    /// A `contentBlockStop`: a tool call is complete, its input parsed; reasoning with
    /// its signature is kept for the next turn.
    pub(crate) fn stop(&mut self, index: u64, out: &mut VecDeque<Chunk>) -> Result<()> {
        let Some(at) = self.open.iter().position(|(i, _)| *i == index) else {
            return Ok(());
        };
        let (_, open) = self.open.remove(at);
        self.close(index, open, out)
    }

    /// The blocks still open, completed in order (at `messageStop`).
    pub(crate) fn stop_all(&mut self, out: &mut VecDeque<Chunk>) -> Result<()> {
        for (index, open) in std::mem::take(&mut self.open) {
            self.close(index, open, out)?;
        }
        Ok(())
    }

    /// A block of a whole reply, complete.
    pub(crate) fn whole(
        &mut self,
        index: u64,
        block: wire::Block,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        if let Some(text) = block.text.filter(|t| !t.is_empty()) {
            out.push_back(Chunk::Text(text.into()));
        }
        if let Some(reasoning) = block.reasoning_content {
            let text = reasoning.reasoning_text.unwrap_or_default();
            self.reasoning(
                index,
                wire::ReasoningDelta {
                    text: text.text.map(Into::into),
                    signature: text.signature.map(Into::into),
                    redacted_content: reasoning.redacted_content.map(Into::into),
                },
                origin,
                out,
            )?;
        }
        if let Some(tool) = block.tool_use {
            let start = wire::Start {
                tool_use: Some(wire::ToolUseStart {
                    tool_use_id: tool.tool_use_id.map(Into::into),
                    name: tool.name.map(Into::into),
                }),
            };
            self.start(index, Some(&start), origin, out)?;
            let input = match tool.input {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(input) => input.to_string(),
            };
            let delta = wire::Delta {
                tool_use: Some(wire::ToolUseDelta {
                    input: Some(input.into()),
                }),
                ..wire::Delta::default()
            };
            self.delta(index, delta, origin, out)?;
        }
        self.stop(index, out)
    }

    /// The reasoning to send back, in the reply's order.
    pub(crate) fn take_kept(&mut self) -> Vec<ThinkingBlock> {
        let mut blocks = std::mem::take(&mut self.kept);
        blocks.sort_by_key(|(index, _)| *index);
        blocks.into_iter().map(|(_, block)| block).collect()
    }

    fn close(&mut self, index: u64, open: Open, out: &mut VecDeque<Chunk>) -> Result<()> {
        match open {
            Open::Reasoning { text, signature } => {
                // Without a signature the API would refuse it back: not kept.
                if !signature.is_empty() {
                    let block = ThinkingBlock::Thinking {
                        thinking: text,
                        signature,
                    };
                    self.kept.push((index, block));
                }
            }
            Open::ToolUse {
                id, name, input, ..
            } => out.push_back(Chunk::from(ToolCall::from_parts(id, name, &input)?)),
        }
        Ok(())
    }

    fn open_block(&self, index: u64, origin: &Origin) -> Result<()> {
        if self.open.len() >= MAX_OPEN {
            return Err(origin.malformed(&format!(
                "more than {MAX_OPEN} content blocks started and not stopped (block {index})"
            )));
        }
        Ok(())
    }

    fn open_at(&mut self, index: u64) -> Option<&mut Open> {
        self.open
            .iter_mut()
            .find(|(i, _)| *i == index)
            .map(|(_, open)| open)
    }
}

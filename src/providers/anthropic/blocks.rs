//! The content blocks of one reply, tracked by their `index` from start to stop: text
//! and thinking stream out as they come; a thinking block's signature is kept with its
//! text, for the next turn; a tool call's input is gathered from its `input_json_delta`s
//! and parsed once, when its block stops.
//!
//! Tolerated: a delta for a block that never started (its text or thinking is taken
//! anyway), a block that never stops (completed by `message_stop`), a tool call whose
//! input came whole in its start (a whole reply; some compatible servers), an empty
//! input (`{}`: a tool without parameters), and block kinds this crate does not read
//! (server tools, their results: skipped).

use std::collections::VecDeque;

use crate::chunk::{Chunk, Text, ThinkingBlock, ToolCall};
use crate::error::Result;
use crate::origin::{Held, Origin};

use super::wire;

/// The most blocks open at once: the API streams one at a time, so more is a server
/// gone wrong (and would make every lookup slower).
const MAX_OPEN: usize = 256;

/// A block that has started and not stopped.
#[derive(Debug)]
enum Open {
    Text,
    Thinking {
        thinking: String,
        signature: String,
    },
    ToolUse {
        /// Its number among the reply's calls (the chunks' `index`).
        number: usize,
        id: String,
        name: String,
        /// The `partial_json` fragments so far.
        input: String,
        /// A non-empty input given whole in the block's start, used if no fragment
        /// follows.
        given: Option<String>,
    },
    /// A kind not read here (or a redacted thinking block, kept at its start).
    Other,
}

/// The blocks of one reply.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    /// Blocks open, by their `index`.
    open: Vec<(u64, Open)>,
    /// Tool calls begun.
    calls: usize,
    /// Thinking blocks to send back, with the index they had.
    thinking: Vec<(u64, ThinkingBlock)>,
    /// What the blocks keep (thinking and signatures, redacted data, tool names, ids
    /// and inputs), counted toward the reply's cap.
    held: Held,
}

impl Blocks {
    /// A `content_block_start`: text or thinking it already holds streams out, a tool
    /// call is announced. A block started again at an open index completes the old one.
    pub(crate) fn start(
        &mut self,
        index: u64,
        block: wire::Block<'_>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        self.stop(index, out)?;
        if self.open.len() >= MAX_OPEN {
            return Err(origin.malformed(&format!(
                "more than {MAX_OPEN} content blocks started and not stopped"
            )));
        }
        self.held.take(block_len(&block), origin)?;
        let open = match block.kind.as_deref().unwrap_or("") {
            "text" => {
                push_text(block.text.as_deref(), out, Chunk::Text);
                Open::Text
            }
            "thinking" => {
                let thinking = block.thinking.map(|t| t.into_owned()).unwrap_or_default();
                push_text(Some(&thinking), out, Chunk::Reasoning);
                Open::Thinking {
                    thinking,
                    signature: block.signature.map(|s| s.into_owned()).unwrap_or_default(),
                }
            }
            "redacted_thinking" => {
                if let Some(data) = block.data.filter(|d| !d.is_empty()) {
                    let data = data.into_owned();
                    self.thinking
                        .push((index, ThinkingBlock::RedactedThinking { data }));
                }
                Open::Other
            }
            "tool_use" => self.tool_use(block, origin, out)?,
            _ => Open::Other,
        };
        self.open.push((index, open));
        Ok(())
    }

    fn tool_use(
        &mut self,
        block: wire::Block<'_>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<Open> {
        let number = self.calls;
        let name = block.name.map(|n| n.into_owned()).unwrap_or_default();
        if name.is_empty() {
            return Err(origin.malformed(&format!(
                "tool call {number} (a tool_use block) has no tool name"
            )));
        }
        self.calls = self.calls.saturating_add(1);
        let id = match block.id.filter(|id| !id.is_empty()) {
            Some(id) => id.into_owned(),
            None => format!("toolu_{number}"),
        };
        let given = match block.input {
            Some(serde_json::Value::Object(map)) if map.is_empty() => None,
            Some(serde_json::Value::Null) | None => None,
            Some(input) => Some(input.to_string()),
        };
        out.push_back(Chunk::tool_call_start(number, id.clone(), name.clone()));
        Ok(Open::ToolUse {
            number,
            id,
            name,
            input: String::new(),
            given,
        })
    }

    /// A `content_block_delta`.
    pub(crate) fn delta(
        &mut self,
        index: u64,
        delta: wire::Delta<'_>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        match delta.kind.as_deref().unwrap_or("") {
            "text_delta" => push_text(delta.text.as_deref(), out, Chunk::Text),
            "thinking_delta" => {
                let Some(piece) = delta.thinking.filter(|t| !t.is_empty()) else {
                    return Ok(());
                };
                self.held.take(piece.len(), origin)?;
                if let Some(Open::Thinking { thinking, .. }) = self.thinking_at(index) {
                    thinking.push_str(&piece);
                }
                out.push_back(Chunk::Reasoning(piece.into()));
            }
            "signature_delta" => {
                let new_len = delta.signature.as_deref().map_or(0, str::len);
                self.held.take(new_len, origin)?;
                if let (Some(Open::Thinking { signature, .. }), Some(new)) =
                    (self.thinking_at(index), delta.signature)
                {
                    // Sent once, whole: it replaces, never appends.
                    *signature = new.into_owned();
                }
            }
            "input_json_delta" => {
                let piece = delta.partial_json.unwrap_or_default();
                self.held.take(piece.len(), origin)?;
                match self.open_at(index) {
                    Some(Open::ToolUse { number, input, .. }) => {
                        if !piece.is_empty() {
                            input.push_str(&piece);
                            out.push_back(Chunk::tool_call_delta(*number, piece.into_owned()));
                        }
                    }
                    // A server tool's input (server_tool_use): not a call of the app's.
                    Some(Open::Other) => {}
                    _ => {
                        return Err(origin.malformed(&format!(
                            "tool input arrived for block {index}, which is not a tool_use block"
                        )))
                    }
                }
            }
            // citations_delta and any newer kind: nothing this crate reads.
            _ => {}
        }
        Ok(())
    }

    /// A `content_block_stop`: a tool call is complete, its input parsed; a thinking
    /// block with its signature is kept for the next turn.
    pub(crate) fn stop(&mut self, index: u64, out: &mut VecDeque<Chunk>) -> Result<()> {
        let Some(at) = self.open.iter().position(|(i, _)| *i == index) else {
            return Ok(());
        };
        let (_, open) = self.open.remove(at);
        self.close(index, open, out)
    }

    /// The blocks still open, completed in order (at `message_stop`).
    pub(crate) fn stop_all(&mut self, out: &mut VecDeque<Chunk>) -> Result<()> {
        for (index, open) in std::mem::take(&mut self.open) {
            self.close(index, open, out)?;
        }
        Ok(())
    }

    /// The thinking blocks to send back, in the reply's order.
    pub(crate) fn take_thinking(&mut self) -> Vec<ThinkingBlock> {
        let mut blocks = std::mem::take(&mut self.thinking);
        blocks.sort_by_key(|(index, _)| *index);
        blocks.into_iter().map(|(_, block)| block).collect()
    }

    fn close(&mut self, index: u64, open: Open, out: &mut VecDeque<Chunk>) -> Result<()> {
        match open {
            Open::Thinking {
                thinking,
                signature,
            } => {
                // Without a signature the API would refuse it back: not kept.
                if !signature.is_empty() {
                    self.thinking.push((
                        index,
                        ThinkingBlock::Thinking {
                            thinking,
                            signature,
                        },
                    ));
                }
            }
            Open::ToolUse {
                number,
                id,
                name,
                input,
                given,
            } => {
                let input = match given {
                    Some(given) if input.trim().is_empty() => {
                        out.push_back(Chunk::tool_call_delta(number, given.clone()));
                        given
                    }
                    _ => input,
                };
                out.push_back(Chunk::from(ToolCall::from_parts(id, name, &input)?));
            }
            Open::Text | Open::Other => {}
        }
        Ok(())
    }

    fn open_at(&mut self, index: u64) -> Option<&mut Open> {
        self.open
            .iter_mut()
            .find(|(i, _)| *i == index)
            .map(|(_, open)| open)
    }

    /// The thinking block at `index`, opened if the server skipped its start.
    fn thinking_at(&mut self, index: u64) -> Option<&mut Open> {
        if self.open.len() < MAX_OPEN && !self.open.iter().any(|(i, _)| *i == index) {
            let empty = Open::Thinking {
                thinking: String::new(),
                signature: String::new(),
            };
            self.open.push((index, empty));
        }
        self.open_at(index)
    }
}

/// The bytes a block's start brings that may be kept: its thinking, signature or
/// redacted data, a tool's name and id, and an input given whole (measured as JSON).
fn block_len(block: &wire::Block<'_>) -> usize {
    let text = |t: &Option<std::borrow::Cow<'_, str>>| t.as_deref().map_or(0, str::len);
    let input = match &block.input {
        Some(serde_json::Value::Object(map)) if map.is_empty() => 0,
        Some(serde_json::Value::Null) | None => 0,
        Some(input) => input.to_string().len(),
    };
    [
        text(&block.thinking),
        text(&block.signature),
        text(&block.data),
        text(&block.name),
        text(&block.id),
        input,
    ]
    .into_iter()
    .fold(0, usize::saturating_add)
}

/// Pushes `text` as a chunk made by `make`, unless it is missing or empty.
fn push_text(text: Option<&str>, out: &mut VecDeque<Chunk>, make: fn(Text) -> Chunk) {
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        out.push_back(make(text.into()));
    }
}

//! Streamed tool call fragments assembled into calls, tolerating what OpenAI-compatible
//! servers send.
//!
//! Fragments concatenate by `index`; a call is complete when a fragment of another
//! call starts, or when the choice finishes. A call is announced once its id is known
//! (the first fragment, or the second for servers that send it late), so that its start
//! and its completion carry the same id. Tolerated: a missing `index` (Gemini's
//! compatible endpoint), a first fragment without a name, a whole call in one chunk
//! (xAI, Ollama's `/v1`), `arguments: ""` for a tool without parameters (`{}`), an empty
//! `id` on later fragments (a known id is never overwritten), index 0 reused for
//! parallel calls with a new id (vLLM, lmdeploy), and the legacy `function_call` (which
//! the decoder passes on only when the delta has no `tool_calls`: beside them it is
//! llama-cpp-python's copy of the same fragment). Arguments that are not JSON when a
//! call completes are an error naming the tool.

use std::collections::VecDeque;

use crate::chunk::{Chunk, ToolCall};
use crate::error::Result;
use crate::origin::{Held, Origin};

/// One call being assembled.
#[derive(Debug)]
struct Slot {
    /// The server's `index` for it, if it sent one.
    key: Option<u64>,
    /// Its number among the reply's calls (the chunks' `index`).
    number: usize,
    id: String,
    name: String,
    arguments: String,
    /// Fragments taken so far.
    fragments: u32,
    /// `ToolCallStart` has been sent (with `id`, which is then fixed).
    started: bool,
    /// `id` came from the server (not made up by `id()`).
    id_from_server: bool,
}

impl Slot {
    fn id(&self) -> String {
        if self.id.is_empty() {
            format!("call_{}", self.number)
        } else {
            self.id.clone()
        }
    }
}

/// The calls of one reply.
#[derive(Debug, Default)]
pub(crate) struct ToolCalls {
    /// Calls still open, oldest first.
    open: Vec<Slot>,
    /// Calls begun so far (open or complete).
    begun: usize,
    /// What the open calls keep (ids, names, arguments), counted toward the reply's
    /// cap: a server may send arguments for a call whose name never comes.
    held: Held,
}

/// One fragment, as the wire gave it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fragment<'a> {
    pub(crate) key: Option<u64>,
    pub(crate) id: Option<&'a str>,
    pub(crate) name: Option<&'a str>,
    pub(crate) arguments: Option<&'a str>,
}

impl ToolCalls {
    /// Takes one fragment; pushes the chunks it makes (a start, a delta, calls it
    /// completes).
    pub(crate) fn fragment(
        &mut self,
        fragment: Fragment<'_>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        let id = fragment.id.filter(|id| !id.is_empty());
        let at = self.slot_for(fragment.key, id, origin, out)?;
        let slot = &mut self.open[at];
        // What this fragment adds to what the call keeps.
        let new_id = id.filter(|_| slot.id.is_empty()).map_or(0, str::len);
        let new_name = fragment
            .name
            .filter(|_| slot.name.is_empty())
            .map_or(0, str::len);
        let piece_len = fragment.arguments.map_or(0, str::len);
        let kept = new_id.saturating_add(new_name).saturating_add(piece_len);
        self.held.take(kept, origin)?;
        slot.fragments = slot.fragments.saturating_add(1);
        // A started call keeps the id its start announced, even a made-up one.
        if let (true, Some(id)) = (slot.id.is_empty(), id) {
            slot.id = id.to_owned();
            slot.id_from_server = true;
        }
        if let (true, Some(name)) = (slot.name.is_empty(), fragment.name) {
            slot.name = name.to_owned();
        }
        let piece = fragment.arguments.unwrap_or("");
        slot.arguments.push_str(piece);
        if slot.started {
            if !piece.is_empty() {
                out.push_back(Chunk::tool_call_delta(slot.number, piece));
            }
        } else if !slot.name.is_empty() && (slot.id_from_server || slot.fragments > 1) {
            // Started once its id is known: servers that send the id late send it on
            // the call's second fragment, and one that sends none has started by then.
            start(slot, out);
        }
        Ok(())
    }

    /// The choice finished: every open call is complete.
    pub(crate) fn finish(&mut self, origin: &Origin, out: &mut VecDeque<Chunk>) -> Result<()> {
        for slot in std::mem::take(&mut self.open) {
            complete(slot, origin, out)?;
        }
        Ok(())
    }

    /// Where a fragment goes: an open call, or a new one (which completes the others).
    fn slot_for(
        &mut self,
        key: Option<u64>,
        id: Option<&str>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<usize> {
        let same = |slot: &Slot| match (key, id) {
            // A known id that differs: index 0 reused for the next parallel call.
            (_, Some(id)) if slot.id_from_server && slot.id != id => false,
            (Some(key), _) => slot.key == Some(key),
            (None, _) => true,
        };
        // Without an index, a fragment continues the latest call.
        let found = match key {
            Some(_) => self.open.iter().position(same),
            None => self
                .open
                .len()
                .checked_sub(1)
                .filter(|&i| same(&self.open[i])),
        };
        if let Some(at) = found {
            return Ok(at);
        }
        self.finish(origin, out)?;
        self.open.push(Slot {
            key,
            number: self.begun,
            id: String::new(),
            name: String::new(),
            arguments: String::new(),
            fragments: 0,
            started: false,
            id_from_server: false,
        });
        self.begun += 1;
        Ok(self.open.len() - 1)
    }
}

/// Sends the start of a call, and the arguments that came before its name.
fn start(slot: &mut Slot, out: &mut VecDeque<Chunk>) {
    slot.started = true;
    slot.id = slot.id();
    out.push_back(Chunk::tool_call_start(
        slot.number,
        slot.id.clone(),
        slot.name.clone(),
    ));
    if !slot.arguments.is_empty() {
        out.push_back(Chunk::tool_call_delta(slot.number, slot.arguments.clone()));
    }
}

fn complete(mut slot: Slot, origin: &Origin, out: &mut VecDeque<Chunk>) -> Result<()> {
    if slot.name.is_empty() {
        return Err(origin.malformed(&format!(
            "tool call {} ended without the name of its tool",
            slot.number
        )));
    }
    if !slot.started {
        start(&mut slot, out);
    }
    let call = ToolCall::from_parts(slot.id(), slot.name, &slot.arguments)?;
    out.push_back(Chunk::from(call));
    Ok(())
}

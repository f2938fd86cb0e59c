//! [`Calls`]: the function calls of one Responses reply.
//!
//! Calls are keyed by their item id (llama.cpp sends no `output_index`): announced when
//! their name is known, their argument deltas streamed, completed at
//! `function_call_arguments.done` or `output_item.done`, whichever comes first, or at
//! the end.

use std::collections::{HashMap, VecDeque};

use crate::chunk::{Chunk, ToolCall};
use crate::error::Result;
use crate::origin::{Held, Origin};

use super::wire::Item;

/// One function call of the reply.
#[derive(Debug)]
struct Call {
    /// The output item's id, which the deltas name.
    item_id: String,
    /// The id a tool result must name (`call_…`).
    call_id: String,
    name: String,
    arguments: String,
    /// Its number among the reply's calls (the chunks' `index`).
    number: usize,
    started: bool,
    done: bool,
}

/// The reply's function calls, in the order they appeared.
#[derive(Debug, Default)]
pub(super) struct Calls {
    calls: Vec<Call>,
    /// Where each item id's call is in `calls`: a reply can hold tens of thousands of
    /// calls, and every delta names one.
    at: HashMap<String, usize>,
    /// What the calls keep (ids, names, arguments), counted toward the reply's cap.
    held: Held,
}

impl Calls {
    /// No call has appeared.
    pub(super) fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The call an item id names, made if it is new.
    fn call(&mut self, item_id: &str, origin: &Origin) -> Result<&mut Call> {
        let at = match self.at.get(item_id) {
            Some(&at) => at,
            None => {
                // The id is kept twice: in the call and in the index.
                self.held.take(item_id.len().saturating_mul(2), origin)?;
                let at = self.calls.len();
                self.calls.push(Call {
                    item_id: item_id.to_owned(),
                    call_id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                    number: at,
                    started: false,
                    done: false,
                });
                self.at.insert(item_id.to_owned(), at);
                at
            }
        };
        Ok(&mut self.calls[at])
    }

    /// What a `function_call` item says (on `added` or `done`) is learned, and the call
    /// announced if it can be. Its number, if the item is a call.
    pub(super) fn learn_item(
        &mut self,
        item: &Item,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<Option<usize>> {
        if item.kind.as_deref() != Some("function_call") {
            return Ok(None);
        }
        let len = |text: &Option<String>| text.as_deref().map_or(0, str::len);
        let kept = [len(&item.call_id), len(&item.name), len(&item.arguments)];
        self.held
            .take(kept.into_iter().fold(0, usize::saturating_add), origin)?;
        let key = item.id.as_deref().or(item.call_id.as_deref()).unwrap_or("");
        let call = self.call(key, origin)?;
        if call.call_id.is_empty() {
            if let Some(id) = item.call_id.as_deref() {
                call.call_id = id.to_owned();
            }
        }
        if call.name.is_empty() {
            if let Some(name) = item.name.as_deref() {
                call.name = name.to_owned();
            }
        }
        if call.arguments.is_empty() {
            if let Some(arguments) = item.arguments.as_deref() {
                call.arguments = arguments.to_owned();
            }
        }
        start(call, out);
        Ok(Some(call.number))
    }

    /// A piece of the arguments of the call `item_id` names: streamed once the call
    /// is announced.
    pub(super) fn arguments_delta(
        &mut self,
        item_id: &str,
        piece: &str,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        self.held.take(piece.len(), origin)?;
        let call = self.call(item_id, origin)?;
        call.arguments.push_str(piece);
        if call.started && !piece.is_empty() {
            out.push_back(Chunk::tool_call_delta(call.number, piece));
        }
        Ok(())
    }

    /// The arguments of the call `item_id` names are complete (and the event may name
    /// its tool): the call is completed if its name is known.
    pub(super) fn arguments_done(
        &mut self,
        item_id: &str,
        arguments: Option<&str>,
        name: Option<String>,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        let kept = arguments
            .map_or(0, str::len)
            .saturating_add(name.as_deref().map_or(0, str::len));
        self.held.take(kept, origin)?;
        let call = self.call(item_id, origin)?;
        if call.arguments.is_empty() {
            if let Some(arguments) = arguments {
                call.arguments = arguments.to_owned();
            }
        }
        if let (true, Some(name)) = (call.name.is_empty(), name) {
            call.name = name;
        }
        let number = call.number;
        if !call.name.is_empty() {
            self.complete(number, origin, out)?;
        }
        Ok(())
    }

    /// Completes the call numbered `number`, if it is not yet.
    pub(super) fn complete(
        &mut self,
        number: usize,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        let Some(call) = self.calls.get_mut(number) else {
            return Ok(());
        };
        if call.done {
            return Ok(());
        }
        if call.name.is_empty() {
            return Err(origin.malformed(&format!(
                "function call {} ended without the name of its tool",
                call.number
            )));
        }
        start(call, out);
        call.done = true;
        let id = call_id(call);
        let complete = ToolCall::from_parts(id, call.name.clone(), &call.arguments)?;
        out.push_back(Chunk::from(complete));
        Ok(())
    }

    /// Completes every call not yet complete (the reply ended).
    pub(super) fn complete_all(
        &mut self,
        origin: &Origin,
        out: &mut VecDeque<Chunk>,
    ) -> Result<()> {
        for number in 0..self.calls.len() {
            self.complete(number, origin, out)?;
        }
        Ok(())
    }
}

/// Announces a call once its name is known, with the arguments that came before.
fn start(call: &mut Call, out: &mut VecDeque<Chunk>) {
    if call.started || call.name.is_empty() {
        return;
    }
    call.started = true;
    // Its id is fixed now: the completed call carries the same.
    call.call_id = call_id(call);
    out.push_back(Chunk::tool_call_start(
        call.number,
        call.call_id.clone(),
        call.name.clone(),
    ));
    if !call.arguments.is_empty() {
        out.push_back(Chunk::tool_call_delta(call.number, call.arguments.clone()));
    }
}

/// The id a tool result must name: the call id, else the item id, else a made-up one.
fn call_id(call: &Call) -> String {
    if !call.call_id.is_empty() {
        call.call_id.clone()
    } else if !call.item_id.is_empty() {
        call.item_id.clone()
    } else {
        format!("call_{}", call.number)
    }
}

//! Bytes read as a sequence of OpenAI tool call fragments (index, id, name, a piece of
//! the arguments), rendered as an SSE body that ends with a finish reason and `[DONE]`,
//! decoded whole and split: the invariants, and tool calls that start before their
//! deltas and complete with a name and the arguments streamed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| theory_llm_testkit::invariants::fuzz_tool_calls(data));

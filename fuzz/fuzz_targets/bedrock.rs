//! A Bedrock ConverseStream body: the input made event-stream messages with their
//! checksums right (lines of `event-type|payload`; `!exceptionType|payload` for an
//! exception), so that the fuzzer reaches the decoder behind the framing; read as the
//! `sse` target reads its input. (The `wires` target feeds the framer raw bytes.)
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| theory_llm_testkit::invariants::fuzz_bedrock(data));

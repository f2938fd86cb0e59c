//! Any text as a model name, through validation, pricing and the providers' request prologue: nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| theory_llm_testkit::invariants::fuzz_model_name(data));

//! Header values as servers may send them (retry-after-ms, Retry-After, Content-Type): no value panics, waits stay bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| theory_llm_testkit::invariants::fuzz_headers(data));

//! The loopback server and transcripts, from the test kit (`testkit/`), which the
//! benches and fuzz targets share.

pub use theory_llm_testkit::loopback::*;
pub use theory_llm_testkit::transcript;

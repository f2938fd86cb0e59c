//! `theory_llm._native`: the Python package's extension module, a thin layer over the
//! Rust crate `theory-llm`. Requests, streaming, usage, cost and errors are the
//! crate's; this layer turns them into Python objects and waits on them in a
//! Python-friendly way.
//!
//! Files: `core.rs` (everything taken from the crate), `runtime.rs` (the process's
//! tokio runtime, rebuilt after fork; waiting with Ctrl-C), `classes.rs`
//! (`get_llm_provider` and the provider classes), `provider.rs` (`chat`,
//! `stream_chat`), `aio.rs` (`achat`, `astream_chat`), `stream.rs` (the sync
//! iterator), `ahead.rs` (a stream read ahead by a runtime task), `reading.rs` (a stream read into its reply), `request.rs` (keyword
//! arguments to a request), `reply.rs` (`LLMReply`), `errors.rs` (exceptions),
//! `convert.rs` (data both ways), `wake.rs` (completing asyncio futures), `cli.rs` (`python -m theory_llm`).

mod ahead;
mod aio;
mod classes;
mod cli;
mod convert;
mod core;
mod errors;
mod provider;
mod reading;
mod reply;
mod request;
mod runtime;
mod stream;
mod wake;

/// What `hello_llm` prints (its usage line, JSON objects, escaping), shared with the
/// example rather than copied, so that `python -m theory_llm` prints the same.
#[allow(dead_code, clippy::unwrap_used)]
#[path = "../../examples/hello_llm/output.rs"]
mod hello_output;

use pyo3::prelude::*;

#[pymodule]
mod _native {
    #[pymodule_export]
    use crate::aio::AsyncChatIterator;
    #[pymodule_export]
    use crate::classes::{
        get_llm_provider, provider_names, AnthropicClass, MockClass, OllamaClass, OpenAIClass,
        OpenAIResponsesClass,
    };
    #[pymodule_export]
    use crate::cli::cli;
    #[pymodule_export]
    use crate::provider::Provider;
    #[pymodule_export]
    use crate::reply::LLMReply;
    #[pymodule_export]
    use crate::stream::ChatIterator;
    #[pymodule_export]
    use crate::wake::LoopWaker;
}

//! Everything this package takes from the Rust crate, in one place: when the crate's
//! paths move, this file is the one to change.

pub(crate) use theory_llm::reply::{Collector, PartialReply};
pub(crate) use theory_llm::{
    AnthropicProvider, ChatReply, ChatRequest, ChatStream, Chunk, Error, ErrorKind,
    LlmStreamProvider, Message, MockProvider, OllamaProvider, OpenAiProvider,
    OpenAiResponsesProvider, ProviderOptions, Registry, ResponseFormat, Role, Timeouts, Tool,
    ToolCall, ToolChoice,
};

/// The string a text chunk carries.
pub(crate) use theory_llm::stream::Text;

/// The crate's `FinishReason`, for the mock's script.
pub(crate) use theory_llm::FinishReason;

/// The crate's `Result`.
pub(crate) use theory_llm::Result as LlmResult;

/// A provider as this package holds it: shared by every Python thread and task.
pub(crate) type SharedProvider = std::sync::Arc<dyn LlmStreamProvider>;

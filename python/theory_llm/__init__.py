"""theory_llm: LLM providers for Python, on the Rust crate theory-llm.

    from theory_llm import get_llm_provider
    llm = get_llm_provider("mock")        # or "openai", "ollama", "anthropic", ...
    reply = llm.chat("Hello")
    print(reply.text, reply.usage["tokens_out"], reply.usage["usd_micros"])
    for piece in llm.stream_chat("Hello"):
        print(piece, end="", flush=True)

Requests, streaming, usage, cost and errors all come from the Rust crate; this
package is its Python face. See ``provider_names()`` for the providers.
"""

from __future__ import annotations

from ._errors import (
    AuthError,
    Cancelled,
    InvalidRequest,
    LLMError,
    LLMTimeout,
    ModelNotFound,
    NetworkError,
    ProtocolError,
    ProviderUnavailable,
    RateLimited,
    ServerError,
)
from ._native import (
    AnthropicProvider,
    AsyncChatStream,
    ChatStream,
    LLMReply,
    MockProvider,
    OllamaProvider,
    OpenAIProvider,
    OpenAIResponsesProvider,
    Provider,
    get_llm_provider,
    provider_names,
)
from ._types import ToolCall, Usage

__all__ = [
    "AnthropicProvider",
    "AsyncChatStream",
    "AuthError",
    "Cancelled",
    "ChatStream",
    "InvalidRequest",
    "LLMError",
    "LLMReply",
    "LLMTimeout",
    "MockProvider",
    "ModelNotFound",
    "NetworkError",
    "OllamaProvider",
    "OpenAIProvider",
    "OpenAIResponsesProvider",
    "ProtocolError",
    "Provider",
    "ProviderUnavailable",
    "RateLimited",
    "ServerError",
    "ToolCall",
    "Usage",
    "get_llm_provider",
    "provider_names",
]

"""Types of the extension module (the Rust side of theory_llm)."""

from collections.abc import Awaitable, Coroutine, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, AsyncIterator, Literal, final

from ._types import ToolCall, Usage

@final
class LLMReply:
    """A reply: text, provider and model, why it finished, usage and cost, tool calls,
    and the parsed JSON for structured output."""

    @property
    def text(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def finish_reason(self) -> str: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def tool_calls(self) -> list[ToolCall]: ...
    @property
    def json(self) -> Any: ...
    @property
    def reasoning(self) -> str: ...
    @property
    def refusal(self) -> str: ...
    @property
    def response_id(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class ChatStream(Iterator[str]):
    """The text pieces of a reply as they arrive (``stream_chat``)."""

    def __iter__(self) -> ChatStream: ...
    def __next__(self) -> str: ...
    def close(self) -> None: ...
    def __enter__(self) -> ChatStream: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]: ...
    @property
    def reply(self) -> LLMReply | None: ...

@final
class AsyncChatStream(AsyncIterator[str]):
    """The text pieces of a reply as they arrive (``astream_chat``)."""

    def __aiter__(self) -> AsyncChatStream: ...
    def __anext__(self) -> Awaitable[str]: ...
    def aclose(self) -> Awaitable[None]: ...
    def __aenter__(self) -> Awaitable[AsyncChatStream]: ...
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Awaitable[bool]: ...
    @property
    def reply(self) -> LLMReply | None: ...

class Provider:
    """An LLM provider. Every method takes the same keywords, all optional."""

    @property
    def name(self) -> str: ...
    @property
    def default_model(self) -> str: ...
    def chat(
        self,
        prompt: str | None = None,
        *,
        model: str | None = None,
        system: str | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | None = None,
        json_schema: Mapping[str, Any] | None = None,
        json_object: bool | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> LLMReply: ...
    def stream_chat(
        self,
        prompt: str | None = None,
        *,
        model: str | None = None,
        system: str | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | None = None,
        json_schema: Mapping[str, Any] | None = None,
        json_object: bool | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> ChatStream: ...
    def achat(
        self,
        prompt: str | None = None,
        *,
        model: str | None = None,
        system: str | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | None = None,
        json_schema: Mapping[str, Any] | None = None,
        json_object: bool | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Coroutine[Any, Any, LLMReply]: ...
    def astream_chat(
        self,
        prompt: str | None = None,
        *,
        model: str | None = None,
        system: str | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | None = None,
        json_schema: Mapping[str, Any] | None = None,
        json_object: bool | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> AsyncChatStream: ...

@final
class OpenAIProvider(Provider):
    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        default_model: str | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None: ...

@final
class OpenAIResponsesProvider(Provider):
    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        default_model: str | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None: ...

@final
class AnthropicProvider(Provider):
    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        default_model: str | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None: ...

@final
class OllamaProvider(Provider):
    def __init__(
        self,
        host: str | None = None,
        *,
        default_model: str | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None: ...

@final
class MockProvider(Provider):
    def __init__(
        self,
        *,
        reply: str | None = None,
        chunks: Sequence[str] | None = None,
        json: Any = None,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
        refusal: str | None = None,
        reasoning: Sequence[str] | None = None,
        delay: float | None = None,
        finish_reason: str | None = None,
        tokens: tuple[int, int] | None = None,
        report_usage: bool = True,
        fail_after: tuple[int, str, str] | None = None,
        default_model: str | None = None,
    ) -> None: ...

def get_llm_provider(
    name: str,
    *,
    endpoints: Sequence[str] | None = None,
    connect_timeout: float | None = None,
) -> Provider: ...
def provider_names() -> list[str]: ...
def cli(argv: Sequence[str]) -> int: ...

@final
class LoopWaker:
    """How the Rust runtime wakes an event loop (internal)."""

    def fileno(self) -> int: ...
    def drain(self) -> None: ...

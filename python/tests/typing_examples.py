"""The examples of issue 26, as a user writes them: `mypy --strict` must accept this
file (test_typing.py runs it), and it runs against the mock."""

from __future__ import annotations

import asyncio
from typing import Any

from theory_llm import (
    AnthropicProvider,
    LLMError,
    LLMReply,
    MockProvider,
    ModelNotFound,
    OllamaProvider,
    OpenAIProvider,
    OpenAIResponsesProvider,
    ProviderUnavailable,
    RateLimited,
    Usage,
    get_llm_provider,
)


def sync_examples() -> LLMReply:
    llm = get_llm_provider("mock")
    reply: LLMReply = llm.chat("Hello", model="gpt-4o-mini")
    text: str = reply.text
    provider: str = reply.provider
    model: str = reply.model
    usage: Usage = reply.usage
    tokens: int = usage["tokens_in"] + usage["tokens_out"]
    latency: float = usage["latency_ms"]
    cost: int = usage["usd_micros"]
    ttft: float | None = usage["ttft_ms"]
    cached: int | None = usage["cached_tokens_in"]
    estimated: bool = usage["tokens_estimated"]
    basis: str = usage["cost_basis"]
    finish: str = reply.finish_reason
    for call in reply.tool_calls:
        name: str = call["name"]
        arguments: dict[str, Any] = call["arguments"]
        print(name, arguments)
    parsed: Any = reply.json
    as_dict: dict[str, Any] = reply.to_dict()
    print(text, provider, model, tokens, latency, cost, ttft, cached, estimated, basis, finish, parsed, as_dict)

    for piece in llm.stream_chat("Hello", model="gpt-4o-mini"):
        print(piece, end="", flush=True)
    stream = llm.stream_chat("Hello")
    whole: str = "".join(stream)
    last: LLMReply | None = stream.reply
    assert last is not None and last.text == whole
    with llm.stream_chat("Hello", temperature=0.2, max_tokens=50, stop=["\n"], seed=1) as s:
        for piece in s:
            break

    structured = llm.chat(
        "Invent a person.",
        system="Be brief.",
        messages=[{"role": "user", "content": "Hi"}],
        json_schema={"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        timeout=30.0,
        max_retries=1,
    )
    print(structured.json)
    tools = [{"name": "now", "description": "The time", "parameters": {"type": "object", "properties": {}}}]
    print(llm.chat("Time?", tools=tools, tool_choice="required").tool_calls)
    print(llm.chat("JSON", json_object=True).json)

    OpenAIProvider(api_key="your-key", base_url=None)
    OllamaProvider(host=None)
    AnthropicProvider(api_key="your-key")
    OpenAIResponsesProvider(api_key="your-key")
    mock = MockProvider(reply="Hi")
    print(mock.name, mock.default_model)
    try:
        get_llm_provider("nope")
    except ValueError as e:
        print(e)
    try:
        llm.chat("Hello", model="missing")
    except ModelNotFound as e:
        print(e.kind, e.status, e.partial)
    except RateLimited as e:
        delay: float | None = e.retry_after
        print(delay)
    except (ProviderUnavailable, ConnectionError, TimeoutError) as e:
        print(e)
    except LLMError as e:
        kind: str = e.kind
        status: int | None = e.status
        partial: LLMReply | None = e.partial
        print(kind, status, partial)
    return reply


async def async_examples() -> str:
    llm = get_llm_provider("mock")
    reply = await llm.achat("Hello", model="mock")
    pieces: list[str] = []
    async for piece in llm.astream_chat("Hello", model="mock"):
        pieces.append(piece)
    task = asyncio.create_task(llm.achat("Hello"))
    other: LLMReply = await task
    return reply.text + "".join(pieces) + other.text


if __name__ == "__main__":
    sync_examples()
    print(asyncio.run(async_examples()))

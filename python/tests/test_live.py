"""The real servers of scripts/realservers.sh (llama.cpp for Chat Completions,
Responses and Anthropic Messages; an Ollama-API server in front of it).

They run when the environment names them (OPENAI_BASE_URL, ANTHROPIC_BASE_URL,
OLLAMA_HOST, THEORY_LLM_LIVE_MODEL, as `scripts/realservers.sh start` prints), and
are skipped otherwise, unless THEORY_LLM_LIVE=1 says they must run: then a missing
variable fails them."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import theory_llm
from theory_llm import LLMReply, get_llm_provider

from test_fork import in_child

NEEDED = ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OLLAMA_HOST", "THEORY_LLM_LIVE_MODEL")
MISSING = [name for name in NEEDED if not os.environ.get(name)]
REQUIRED = os.environ.get("THEORY_LLM_LIVE") == "1"


@pytest.fixture(autouse=True)
def live_servers() -> None:
    if MISSING:
        message = f"the real servers are not configured: {', '.join(MISSING)} unset (run scripts/realservers.sh start)"
        if REQUIRED:
            pytest.fail("THEORY_LLM_LIVE=1: " + message)
        pytest.skip(message)


MODEL = os.environ.get("THEORY_LLM_LIVE_MODEL", "")
PROVIDERS = ["openai", "openai-responses", "anthropic", "ollama"]


def check_reply(reply: LLMReply, provider: str) -> None:
    assert reply.provider == provider
    assert reply.text.strip()
    usage = reply.usage
    assert usage["tokens_in"] > 0 and usage["tokens_out"] > 0
    assert not usage["tokens_estimated"], usage
    assert usage["latency_ms"] > 0
    assert usage["ttft_ms"] is not None and usage["ttft_ms"] <= usage["latency_ms"]
    assert type(usage["usd_micros"]) is int


@pytest.mark.parametrize("name", PROVIDERS)
def test_chat_and_stream_chat(name: str) -> None:
    llm = get_llm_provider(name)
    reply = llm.chat("Say hello.", model=MODEL, max_tokens=24, temperature=0)
    check_reply(reply, name)
    stream = llm.stream_chat("Say hello.", model=MODEL, max_tokens=24, temperature=0)
    pieces = list(stream)
    assert pieces and all(type(p) is str for p in pieces)
    assert stream.reply is not None and "".join(pieces) == stream.reply.text
    check_reply(stream.reply, name)


@pytest.mark.parametrize("name", ["openai", "ollama"])
def test_asyncio(name: str) -> None:
    llm = get_llm_provider(name)

    async def main() -> tuple[LLMReply, list[str]]:
        reply = await llm.achat("Say hello.", model=MODEL, max_tokens=16, temperature=0)
        pieces = [p async for p in llm.astream_chat("Say hi.", model=MODEL, max_tokens=16, temperature=0)]
        return reply, pieces

    reply, pieces = asyncio.run(main())
    check_reply(reply, name)
    assert "".join(pieces).strip()


@pytest.mark.parametrize("name", ["openai", "openai-responses"])
def test_structured_output(name: str) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"]}
    reply = get_llm_provider(name).chat("Invent a person.", model=MODEL, temperature=0, max_tokens=300, json_schema=schema)
    assert isinstance(reply.json["name"], str) and isinstance(reply.json["age"], int)
    assert reply.to_dict()["json"] == reply.json


def test_threads_share_a_provider() -> None:
    llm = get_llm_provider("openai")
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: llm.chat("Say hi.", model=MODEL, max_tokens=8), range(4)))
    assert all(r.text for r in replies)


def test_break_cancels_and_the_provider_goes_on() -> None:
    llm = get_llm_provider("openai")
    started = time.monotonic()
    for i, _ in enumerate(llm.stream_chat("Write a very long story about the sea.", model=MODEL, max_tokens=900)):
        if i == 3:
            break
    assert time.monotonic() - started < 30
    assert llm.chat("Say hi.", model=MODEL, max_tokens=8).text


def test_a_provider_used_before_fork_works_in_the_child() -> None:
    llm = get_llm_provider("ollama")
    assert llm.chat("Say hi.", model=MODEL, max_tokens=8).text

    def child() -> None:
        assert llm.chat("Say hi.", model=MODEL, max_tokens=8).text

    assert in_child(child) == 0


def test_every_registry_name_that_the_servers_speak_is_covered() -> None:
    assert set(PROVIDERS) <= set(theory_llm.provider_names())

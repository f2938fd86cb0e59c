"""Fixtures: loopback servers for each wire format, and providers pointed at them."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from loopback import Loopback  # noqa: E402

import theory_llm  # noqa: E402


@pytest.fixture
def openai_server() -> Iterator[Loopback]:
    server = Loopback("openai")
    yield server
    server.close()


@pytest.fixture
def ollama_server() -> Iterator[Loopback]:
    server = Loopback("ollama")
    yield server
    server.close()


@pytest.fixture
def anthropic_server() -> Iterator[Loopback]:
    server = Loopback("anthropic")
    yield server
    server.close()


def provider_for(server: Loopback, **settings: object) -> theory_llm.Provider:
    """A provider of the server's wire format, pointed at it, with no retries unless
    asked (so that a test sees the first failure)."""
    settings.setdefault("max_retries", 0)
    if server.kind == "openai":
        return theory_llm.OpenAIProvider(api_key="sk-loopback-0123456789abcdef", base_url=server.url, **settings)  # type: ignore[arg-type]
    if server.kind == "ollama":
        return theory_llm.OllamaProvider(server.url, **settings)  # type: ignore[arg-type]
    return theory_llm.AnthropicProvider(api_key="sk-ant-test", base_url=server.url, **settings)  # type: ignore[arg-type]


@pytest.fixture(params=["openai", "ollama", "anthropic"])
def server(request: pytest.FixtureRequest) -> Iterator[Loopback]:
    """Each wire format in turn."""
    server = Loopback(request.param)
    yield server
    server.close()

"""The API contract of issue 26, line by line, against the mock and the loopback
servers of each wire format."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import theory_llm
from theory_llm import (
    AnthropicProvider,
    LLMReply,
    MockProvider,
    OllamaProvider,
    OpenAIProvider,
    OpenAIResponsesProvider,
    get_llm_provider,
)

from conftest import provider_for
from loopback import Loopback, Script

USAGE_KEYS = [
    "tokens_in",
    "tokens_out",
    "cached_tokens_in",
    "cache_write_tokens_in",
    "reasoning_tokens_out",
    "latency_ms",
    "usd_micros",
    "ttft_ms",
    "waited_ms",
    "tokens_estimated",
    "cost_basis",
]


def check_usage(usage: dict[str, object]) -> None:
    assert sorted(usage) == sorted(USAGE_KEYS)
    for key in ("tokens_in", "tokens_out", "usd_micros"):
        assert type(usage[key]) is int, (key, usage)
    assert type(usage["latency_ms"]) is float
    assert type(usage["waited_ms"]) is float
    for key in ("ttft_ms",):
        assert usage[key] is None or type(usage[key]) is float
    for key in ("cached_tokens_in", "cache_write_tokens_in", "reasoning_tokens_out"):
        assert usage[key] is None or type(usage[key]) is int
    assert type(usage["tokens_estimated"]) is bool
    assert usage["cost_basis"] in ("price_table", "free", "unknown_price")


def test_chat_on_the_mock_has_the_contract_shape() -> None:
    llm = get_llm_provider("mock")
    reply = llm.chat("Hello", model="gpt-4o-mini")
    assert isinstance(reply, LLMReply)
    assert isinstance(reply.text, str) and "Hello" in reply.text
    assert (reply.provider, reply.model) == ("mock", "gpt-4o-mini")
    assert reply.finish_reason == "stop"
    assert reply.tool_calls == []
    assert reply.json is None
    check_usage(reply.usage)  # type: ignore[arg-type]
    assert reply.usage["tokens_out"] > 0
    assert reply.usage["cached_tokens_in"] is None  # not reported is None, not 0
    assert reply.usage["cost_basis"] == "free" and reply.usage["usd_micros"] == 0


def test_usd_micros_is_an_integer_priced_from_the_crate_table(openai_server: Loopback) -> None:
    openai_server.script = Script(usage=(1_000_000, 1_000_000))
    reply = provider_for(openai_server).chat("Hi", model="gpt-4o-mini")
    # gpt-4o-mini: $0.15 in, $0.60 out per million tokens, in integer micro-USD.
    assert reply.usage["usd_micros"] == 750_000
    assert type(reply.usage["usd_micros"]) is int
    assert reply.usage["cost_basis"] == "price_table"


def test_stream_chat_yields_str_pieces_then_keeps_the_reply(server: Loopback) -> None:
    llm = provider_for(server)
    stream = llm.stream_chat("Hello", model="m")
    assert stream.reply is None
    pieces = list(stream)
    assert pieces == ["Hel", "lo", ", ", "world", "!"]
    assert all(type(p) is str for p in pieces)
    reply = stream.reply
    assert reply is not None and reply.text == "Hello, world!"
    assert reply.provider == server.kind and reply.model == "m"
    assert reply.usage["tokens_in"] == 7 and reply.usage["tokens_out"] == 5
    assert not reply.usage["tokens_estimated"]
    check_usage(reply.usage)  # type: ignore[arg-type]
    # Once over, it stays over.
    assert list(stream) == []


def test_join_then_reply() -> None:
    llm = get_llm_provider("mock")
    stream = llm.stream_chat("Hello")
    text = "".join(stream)
    assert stream.reply is not None and stream.reply.text == text


def test_chat_on_each_wire_format(server: Loopback) -> None:
    reply = provider_for(server).chat("Hello", model="m")
    assert reply.text == "Hello, world!"
    assert reply.finish_reason == "stop"
    assert server.requests[-1]["body"]["model"] == "m"


def test_stream_chat_returns_at_once_and_sends_on_first_next(openai_server: Loopback) -> None:
    openai_server.script = Script(headers_delay=0.5)
    llm = provider_for(openai_server)
    import time

    started = time.monotonic()
    stream = llm.stream_chat("Hello")
    assert time.monotonic() - started < 0.05
    time.sleep(0.1)
    assert openai_server.requests == []  # nothing sent yet
    assert next(stream) == "Hel"
    assert len(openai_server.requests) == 1
    stream.close()


def test_reply_text_provider_model_are_str_and_tool_calls_are_dicts() -> None:
    llm = MockProvider()
    weather = {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    reply = llm.chat("Weather in Paris?", tools=[weather], tool_choice="required")
    assert reply.finish_reason == "tool_calls"
    assert len(reply.tool_calls) == 1
    call = reply.tool_calls[0]
    assert sorted(call) == ["arguments", "id", "name"]
    assert call["name"] == "get_weather" and isinstance(call["id"], str)
    assert isinstance(call["arguments"], dict) and isinstance(call["arguments"]["city"], str)


def test_tool_calls_from_a_server_and_the_next_turn(openai_server: Loopback) -> None:
    openai_server.script = Script(pieces=[], tool_call=("call_1", "get_weather", '{"city": "Paris"}'))
    llm = provider_for(openai_server)
    tool = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
    reply = llm.chat("Weather?", tools=[tool])
    assert reply.tool_calls == [{"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}]
    assert reply.finish_reason == "tool_calls"
    # The conversation goes on with the call and its result.
    openai_server.script = Script(pieces=["Sunny."])
    messages = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": reply.text, "tool_calls": reply.tool_calls},
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "18 C, sunny"},
    ]
    assert llm.chat(None, messages=messages, tools=[tool]).text == "Sunny."
    sent = openai_server.requests[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[1]["tool_calls"][0]["id"] == "call_1"
    assert sent[2]["tool_call_id"] == "call_1"


def test_json_schema_and_json_object_give_parsed_json() -> None:
    llm = MockProvider()
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    reply = llm.chat("Invent a person.", json_schema=schema)
    assert isinstance(reply.json, dict) and isinstance(reply.json["age"], int)
    assert reply.to_dict()["json"] == reply.json
    reply = MockProvider(json={"ok": True}).chat("JSON please", json_object=True)
    assert reply.json == {"ok": True}
    # Without structured output: no "json".
    assert "json" not in MockProvider().chat("Hi").to_dict()


def test_json_schema_is_sent_as_the_response_format(openai_server: Loopback) -> None:
    openai_server.script = Script(pieces=['{"n": ', "3}"])
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    reply = provider_for(openai_server).chat("N?", json_schema=schema)
    assert reply.json == {"n": 3}
    body = openai_server.requests[-1]["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"] == schema["properties"]
    provider_for(openai_server).chat("N?", json_object=True)
    assert openai_server.requests[-1]["body"]["response_format"] == {"type": "json_object"}


def test_every_keyword_reaches_the_request(openai_server: Loopback) -> None:
    llm = provider_for(openai_server)
    tool = {"name": "now", "description": "The time", "parameters": {"type": "object", "properties": {}}}
    llm.chat(
        "Last",
        model="gpt-4o-mini",
        system="Be brief.",
        messages=[{"role": "user", "content": "First"}, {"role": "assistant", "content": "Ok"}],
        temperature=0.5,
        max_tokens=42,
        stop=["END"],
        seed=7,
        tools=[tool],
        tool_choice="now",
        timeout=30,
        max_retries=1,
    )
    body = openai_server.requests[-1]["body"]
    assert body["model"] == "gpt-4o-mini"
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("system", "Be brief."),
        ("user", "First"),
        ("assistant", "Ok"),
        ("user", "Last"),
    ]
    assert body["temperature"] == 0.5
    assert 42 in (body.get("max_tokens"), body.get("max_completion_tokens"))
    assert body["stop"] == ["END"]
    assert body["seed"] == 7
    assert body["tools"][0]["function"]["name"] == "now"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "now"}}
    llm.chat("Hi", stop="STOP", tool_choice="auto", tools=[tool])
    assert openai_server.requests[-1]["body"]["stop"] == ["STOP"]
    assert openai_server.requests[-1]["body"]["tool_choice"] == "auto"
    for choice in ("none", "required"):
        llm.chat("Hi", tool_choice=choice, tools=[tool])
        assert openai_server.requests[-1]["body"]["tool_choice"] == choice


def test_messages_alone_with_prompt_none(ollama_server: Loopback) -> None:
    llm = provider_for(ollama_server)
    llm.chat(None, messages=[{"role": "user", "content": "Only this"}])
    sent = ollama_server.requests[-1]["body"]["messages"]
    assert sent == [{"role": "user", "content": "Only this"}]


def test_max_retries_is_the_number_of_retries(openai_server: Loopback) -> None:
    openai_server.script = Script(status=503, error_body='{"error": {"message": "busy"}}', error_headers={"Retry-After": "0"})
    llm = provider_for(openai_server)
    with pytest.raises(theory_llm.ServerError):
        llm.chat("Hi", max_retries=2)
    assert len(openai_server.requests) == 3


BAD_VALUES = [
    {"model": 3},
    {"model": ""},
    {"temperature": "hot"},
    {"temperature": 3.5},
    {"temperature": True},
    {"max_tokens": -1},
    {"max_tokens": 2**40},
    {"max_tokens": 1.5},
    {"seed": -3},
    {"stop": [1]},
    {"messages": "hello"},
    {"messages": [{"role": "robot", "content": "x"}]},
    {"messages": [{"role": "tool", "content": "x"}]},  # a tool result without its call id
    {"tools": [{"description": "no name"}]},
    {"tools": [{"name": "t", "parameters": [1, 2]}]},
    {"tool_choice": ""},
    {"tool_choice": "missing_tool"},
    {"json_schema": "not a dict"},
    {"json_schema": {"type": "object"}, "json_object": True},
    {"json_object": "yes"},
    {"timeout": 0},
    {"timeout": -1},
    {"timeout": float("nan")},
    {"max_retries": -1},
    {"system": ["a"]},
]


@pytest.mark.parametrize("kwargs", BAD_VALUES, ids=[json.dumps(k, default=str) for k in BAD_VALUES])
def test_a_bad_value_raises_value_error_before_anything_is_sent(openai_server: Loopback, kwargs: dict[str, object]) -> None:
    llm = provider_for(openai_server)
    for method in (llm.chat, llm.stream_chat, llm.achat, llm.astream_chat):
        with pytest.raises(ValueError) as caught:
            method("Hello", **kwargs)  # type: ignore[operator]
        assert isinstance(caught.value, theory_llm.InvalidRequest)
        assert caught.value.kind == "invalid_request"
    assert openai_server.requests == []


def test_no_prompt_and_no_messages_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no messages"):
        MockProvider().chat()


def test_an_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'temprature'"):
        MockProvider().chat("Hi", temprature=1)


def test_get_llm_provider_knows_every_registry_name(openai_server: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    names = theory_llm.provider_names()
    assert {"mock", "openai", "ollama", "anthropic", "openai-responses"} <= set(names)
    # Every name builds, given its environment (a local base URL needs no key).
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{openai_server.port}")
    monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{openai_server.port}")
    local = f"http://127.0.0.1:{openai_server.port}"
    monkeypatch.setenv("GEMINI_BASE_URL", local)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", local)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("BEDROCK_BASE_URL", local)
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "k")
    for name in names:
        # The named OpenAI-compatible clouds: `<NAME>_BASE_URL` on this machine.
        monkeypatch.setenv(name.upper().replace("-", "_") + "_BASE_URL", local)
    for name in names:
        llm = get_llm_provider(name)
        assert isinstance(llm, theory_llm.Provider)
        assert isinstance(llm.name, str) and isinstance(llm.default_model, str)
    assert get_llm_provider("openai").chat("Hi").text == "Hello, world!"


def test_the_names_are_the_registry_s_as_hello_llm_lists_them() -> None:
    hello = os.environ.get("HELLO_LLM")
    if not hello:
        pytest.skip("HELLO_LLM (the hello_llm binary) is not set; run_tests.sh sets it")
    usage = subprocess.run([hello, "--help"], capture_output=True, text=True, check=True).stdout
    assert ", ".join(theory_llm.provider_names()) in usage


def test_direct_instantiation(openai_server: Loopback, ollama_server: Loopback, anthropic_server: Loopback) -> None:
    llm = OpenAIProvider(api_key="your-key", base_url=None)
    assert (llm.name, llm.default_model) == ("openai", "gpt-4o-mini")
    assert "your-key" not in repr(llm)
    assert OpenAIProvider(api_key="k", base_url=openai_server.url).chat("Hi").text == "Hello, world!"
    responses = OpenAIResponsesProvider(api_key="k", base_url=openai_server.url)
    assert responses.name == "openai-responses"
    assert OllamaProvider(host=None).name == "ollama"
    assert OllamaProvider(ollama_server.url, default_model="qwen").default_model == "qwen"
    anthropic = AnthropicProvider(api_key="k", base_url=anthropic_server.url)
    assert anthropic.name == "anthropic" and anthropic.chat("Hi").text == "Hello, world!"
    mock = MockProvider(reply="Scripted answer.")
    assert (mock.name, mock.default_model) == ("mock", "mock")
    assert mock.chat("Hi").text == "Scripted answer."
    for cls in (OpenAIProvider, OpenAIResponsesProvider, AnthropicProvider, OllamaProvider, MockProvider):
        assert issubclass(cls, theory_llm.Provider)


def test_a_missing_key_raises_provider_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError) as caught:
        get_llm_provider("openai")
    assert isinstance(caught.value, theory_llm.ProviderUnavailable)
    assert "OPENAI_API_KEY" in str(caught.value)
    with pytest.raises(ValueError):
        OpenAIProvider(api_key="")


def test_to_dict_is_the_object_hello_llm_prints() -> None:
    reply = get_llm_provider("mock").chat("Hello")
    d = reply.to_dict()
    assert list(d) == [
        "text",
        "tool_calls",
        "provider",
        "model",
        "response_id",
        "finish_reason",
        "usage",
        "rate_limit",
        "endpoint",
        "attempts",
    ]
    assert list(d["usage"]) == USAGE_KEYS
    assert d["text"] == reply.text and d["usage"] == reply.usage
    hello = os.environ.get("HELLO_LLM")
    if hello:
        printed = json.loads(subprocess.run([hello, "--provider", "mock", "--json"], capture_output=True, text=True, check=True).stdout)
        assert list(printed) == list(d)
        for key in ("latency_ms", "ttft_ms"):
            printed["usage"].pop(key), d["usage"].pop(key)
        assert printed == d


def test_reasoning_and_refusal_are_kept_apart_from_text() -> None:
    reply = MockProvider(reasoning=["Let me think."], reply="Answer.").chat("Q?")
    assert reply.reasoning == "Let me think." and reply.text == "Answer."
    refused = MockProvider(refusal="I can't help with that.").chat("Q?")
    assert refused.refusal == "I can't help with that." and refused.text == ""


def test_repr_of_a_reply_shows_its_text() -> None:
    assert "text='Hi'" in repr(MockProvider(reply="Hi").chat("x"))


def test_python_version_and_abi3_module() -> None:
    assert sys.version_info >= (3, 10)
    assert theory_llm._native.__file__.endswith(".abi3.so")  # type: ignore[attr-defined]

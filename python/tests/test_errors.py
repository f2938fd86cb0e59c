"""Exceptions: the hierarchy of issue 26, and each kind as the crate classifies what a
server does, with .kind, .status, .partial and .retry_after."""

from __future__ import annotations

import pickle
import socket

import pytest

import theory_llm
from theory_llm import (
    AuthError,
    Cancelled,
    InvalidRequest,
    LLMError,
    LLMTimeout,
    MockProvider,
    ModelNotFound,
    NetworkError,
    OllamaProvider,
    ProtocolError,
    ProviderUnavailable,
    RateLimited,
    ServerError,
    get_llm_provider,
)

from conftest import provider_for
from loopback import Loopback, Script


def test_the_hierarchy() -> None:
    assert issubclass(LLMError, Exception)
    extra_bases = {
        ProviderUnavailable: ValueError,
        ModelNotFound: ValueError,
        InvalidRequest: ValueError,
        NetworkError: ConnectionError,
        LLMTimeout: TimeoutError,
    }
    for cls in (ProviderUnavailable, ModelNotFound, InvalidRequest, AuthError, RateLimited, ServerError,
                NetworkError, LLMTimeout, ProtocolError, Cancelled):
        assert issubclass(cls, LLMError)
        assert cls.__bases__ == ((LLMError, extra_bases[cls]) if cls in extra_bases else (LLMError,)), cls
    for cls in (AuthError, RateLimited, ServerError, ProtocolError, Cancelled):
        assert not issubclass(cls, (ValueError, ConnectionError, TimeoutError))


def test_an_unknown_provider_is_a_value_error_listing_the_names() -> None:
    with pytest.raises(ValueError) as caught:
        get_llm_provider("nope")
    error = caught.value
    assert isinstance(error, ProviderUnavailable)
    assert error.kind == "provider_unavailable" and error.status is None and error.partial is None
    for name in theory_llm.provider_names():
        assert name in str(error)


def test_ollama_model_not_pulled_is_a_value_error_with_the_pull_advice(ollama_server: Loopback) -> None:
    ollama_server.script = Script(status=404, error_body='{"error":"model \\"qwen9:0.5b\\" not found, try pulling it first"}')
    llm = provider_for(ollama_server)
    for call in (lambda: llm.chat("Hi", model="qwen9:0.5b"), lambda: list(llm.stream_chat("Hi", model="qwen9:0.5b"))):
        with pytest.raises(ValueError) as caught:
            call()
        error = caught.value
        assert isinstance(error, ModelNotFound)
        assert error.kind == "model_not_found" and error.status == 404
        assert "ollama pull qwen9:0.5b" in str(error)


def test_openai_model_not_found(openai_server: Loopback) -> None:
    openai_server.script = Script(status=404, error_body='{"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","code":"model_not_found"}}')
    with pytest.raises(ModelNotFound) as caught:
        provider_for(openai_server).chat("Hi", model="gpt-9")
    assert caught.value.status == 404 and "gpt-9" in str(caught.value)


def test_auth(openai_server: Loopback) -> None:
    openai_server.script = Script(status=401, error_body='{"error":{"message":"Incorrect API key provided: sk-loopback-0123456789abcdef","type":"invalid_request_error"}}')
    with pytest.raises(AuthError) as caught:
        provider_for(openai_server).chat("Hi")
    assert caught.value.kind == "auth" and caught.value.status == 401
    # The key is scrubbed by the crate, from the message and from the error object.
    assert "0123456789abcdef" not in str(caught.value)
    assert "0123456789abcdef" not in str(caught.value.to_dict())


def test_rate_limited_has_retry_after(anthropic_server: Loopback) -> None:
    anthropic_server.script = Script(status=429, error_body='{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}',
                                     error_headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as caught:
        provider_for(anthropic_server).chat("Hi")
    error = caught.value
    assert error.kind == "rate_limited" and error.status == 429
    assert error.retry_after == 7.0


def test_server_error(openai_server: Loopback) -> None:
    openai_server.script = Script(status=500, error_body='{"error":{"message":"boom"}}')
    with pytest.raises(ServerError) as caught:
        provider_for(openai_server).chat("Hi")
    assert caught.value.status == 500 and "boom" in str(caught.value)


def test_a_refused_connection_is_provider_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    llm = OllamaProvider(f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(ValueError) as caught:
        llm.chat("Hi")
    assert isinstance(caught.value, ProviderUnavailable)


def test_a_connection_cut_mid_stream_keeps_the_partial_reply(server: Loopback) -> None:
    server.script = Script(drop_after=2)
    llm = provider_for(server)
    with pytest.raises(LLMError) as caught:
        llm.chat("Hi", model="m")
    error = caught.value
    assert isinstance(error, (NetworkError, ProtocolError)), error
    partial = error.partial
    assert partial is not None
    assert partial.text == "Hello" and partial.provider == server.kind and partial.model == "m"
    assert partial.finish_reason == "error"
    assert partial.usage["tokens_estimated"] is True
    assert error.to_dict()["partial"]["text"] == "Hello"
    assert partial.to_dict() == error.to_dict()["partial"]
    # The same through the stream: the pieces, then the error with what had arrived.
    stream = llm.stream_chat("Hi", model="m")
    assert [next(stream), next(stream)] == ["Hel", "lo"]
    with pytest.raises(LLMError) as caught:
        next(stream)
    assert caught.value.partial is not None and caught.value.partial.text == "Hello"
    assert list(stream) == [] and stream.reply is None


def test_network_error_is_a_connection_error() -> None:
    llm = MockProvider(reply="one two three", fail_after=(2, "network", "the connection dropped"))
    with pytest.raises(ConnectionError) as caught:
        llm.chat("Hi")
    assert isinstance(caught.value, NetworkError) and caught.value.kind == "network"
    assert caught.value.partial is not None and caught.value.partial.text == "one two"


def test_timeout_is_a_timeout_error(openai_server: Loopback) -> None:
    openai_server.script = Script(stall_after=1)
    with pytest.raises(TimeoutError) as caught:
        provider_for(openai_server).chat("Hi", timeout=0.3)
    assert isinstance(caught.value, LLMTimeout) and caught.value.kind == "timeout"
    assert caught.value.partial is not None and caught.value.partial.text == "Hel"
    assert openai_server.wait_cancelled(1, timeout=5) is not None


def test_cancelled_and_protocol_kinds() -> None:
    with pytest.raises(Cancelled):
        MockProvider(fail_after=(0, "cancelled", "stopped")).chat("Hi")
    with pytest.raises(ProtocolError):
        MockProvider(fail_after=(1, "protocol", "garbled")).chat("Hi")


def test_structured_output_that_is_not_json_is_a_protocol_error_with_the_reply(openai_server: Loopback) -> None:
    openai_server.script = Script(pieces=["Sorry, ", "no JSON today."])
    llm = provider_for(openai_server)
    with pytest.raises(ProtocolError) as caught:
        llm.chat("JSON please", json_object=True)
    assert "not the JSON" in str(caught.value)
    assert caught.value.partial is not None and caught.value.partial.text == "Sorry, no JSON today."
    stream = llm.stream_chat("JSON please", json_object=True)
    assert next(stream) == "Sorry, "
    assert next(stream) == "no JSON today."
    with pytest.raises(ProtocolError):
        next(stream)


def test_error_to_dict_is_hello_llm_s_error_object() -> None:
    with pytest.raises(LLMError) as caught:
        get_llm_provider("nope")
    d = caught.value.to_dict()
    assert list(d) == ["error"]
    assert d["error"]["kind"] == "provider_unavailable" and d["error"]["status"] is None
    assert d["error"]["message"] == str(caught.value)


def test_errors_pickle_for_multiprocessing(openai_server: Loopback) -> None:
    openai_server.script = Script(status=429, error_body="{}", error_headers={"Retry-After": "3"})
    with pytest.raises(RateLimited) as caught:
        provider_for(openai_server).chat("Hi")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is RateLimited
    assert (copy.kind, copy.status, copy.retry_after, str(copy)) == ("rate_limited", 429, 3.0, str(caught.value))
    assert copy.to_dict() == caught.value.to_dict()


def test_an_error_made_in_python_works_too() -> None:
    error = ModelNotFound("no such model", status=404)
    assert error.kind == "model_not_found" and error.status == 404 and error.partial is None
    assert error.to_dict() == {"error": {"kind": "model_not_found", "message": "no such model", "status": 404}}
    assert RateLimited("slow").retry_after is None

"""Cancellation as the server sees it: break, close(), leaving a `with` block, garbage
collection of the iterator, and Ctrl-C (KeyboardInterrupt) during a blocking chat()
or a stalled stream, each close the connection."""

from __future__ import annotations

import gc
import signal
import time
from collections.abc import Iterator

import pytest

from theory_llm import MockProvider, Provider

from conftest import provider_for
from loopback import Loopback, Script

# How soon after the cancel the server must see the connection close.
CLOSE_WITHIN = 1.0


def stalled(server: Loopback) -> Provider:
    """A provider whose server sends two pieces, then nothing, until the client leaves."""
    server.script = Script(stall_after=2)
    return provider_for(server)


def assert_closed_since(server: Loopback, since: float) -> None:
    closed_at = server.wait_cancelled(1, timeout=5)
    assert closed_at is not None, "the server never saw the connection close"
    assert closed_at - since < CLOSE_WITHIN, f"closed {closed_at - since:.3f} s after the cancel"


def test_break_cancels(server: Loopback) -> None:
    llm = stalled(server)
    for piece in llm.stream_chat("Hi"):
        assert piece == "Hel"
        break
    assert_closed_since(server, time.monotonic())


def test_close_cancels_and_keeps_what_arrived(server: Loopback) -> None:
    llm = stalled(server)
    stream = llm.stream_chat("Hi", model="m")
    assert next(stream) == "Hel"
    assert next(stream) == "lo"
    stream.close()
    assert_closed_since(server, time.monotonic())
    reply = stream.reply
    assert reply is not None
    assert reply.text == "Hello" and reply.finish_reason == "cancelled" and reply.model == "m"
    assert reply.usage["tokens_estimated"]
    assert list(stream) == []


def test_leaving_a_with_block_cancels(server: Loopback) -> None:
    llm = stalled(server)
    with llm.stream_chat("Hi") as stream:
        assert next(stream) == "Hel"
    assert_closed_since(server, time.monotonic())


def test_an_exception_in_a_with_block_cancels_and_propagates(openai_server: Loopback) -> None:
    llm = stalled(openai_server)
    with pytest.raises(ZeroDivisionError):
        with llm.stream_chat("Hi") as stream:
            next(stream)
            1 / 0
    assert_closed_since(openai_server, time.monotonic())


def test_garbage_collection_of_the_iterator_cancels(server: Loopback) -> None:
    llm = stalled(server)
    stream = llm.stream_chat("Hi")
    next(stream)
    # A reference cycle keeps it alive until the collector runs.
    holder: list[object] = [stream]
    holder.append(holder)
    del stream, holder
    time.sleep(0.2)
    assert server.cancelled() == 0
    gc.collect()
    assert_closed_since(server, time.monotonic())


def test_a_generator_that_is_not_finished_cancels_when_collected(openai_server: Loopback) -> None:
    llm = stalled(openai_server)

    def words() -> Iterator[str]:
        yield from llm.stream_chat("Hi")

    gen = words()
    next(gen)
    del gen
    assert_closed_since(openai_server, time.monotonic())


@pytest.fixture
def alarm() -> Iterator[None]:
    """SIGALRM raises KeyboardInterrupt, as Ctrl-C's SIGINT does."""
    previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


INTERRUPT_AFTER = 0.3
# The contract: KeyboardInterrupt within 0.2 s of Ctrl-C.
INTERRUPTED_WITHIN = 0.2


def test_ctrl_c_stops_a_blocking_chat(server: Loopback, alarm: None) -> None:
    server.script = Script(headers_delay=30)
    llm = provider_for(server)
    signal.setitimer(signal.ITIMER_REAL, INTERRUPT_AFTER)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        llm.chat("Hi")
    late = time.monotonic() - started - INTERRUPT_AFTER
    assert late < INTERRUPTED_WITHIN, f"KeyboardInterrupt {late:.3f} s after the signal"
    assert_closed_since(server, time.monotonic())


def test_ctrl_c_stops_a_stalled_stream(server: Loopback, alarm: None) -> None:
    llm = stalled(server)
    stream = llm.stream_chat("Hi")
    assert next(stream) == "Hel"
    assert next(stream) == "lo"
    signal.setitimer(signal.ITIMER_REAL, INTERRUPT_AFTER)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        next(stream)
    late = time.monotonic() - started - INTERRUPT_AFTER
    assert late < INTERRUPTED_WITHIN, f"KeyboardInterrupt {late:.3f} s after the signal"
    assert_closed_since(server, time.monotonic())
    assert stream.reply is not None and stream.reply.text == "Hello"
    assert stream.reply.finish_reason == "cancelled"


def test_ctrl_c_stops_the_mock_between_chunks(alarm: None) -> None:
    llm = MockProvider(chunks=["a", "b", "c"], delay=10)
    signal.setitimer(signal.ITIMER_REAL, INTERRUPT_AFTER)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        llm.chat("Hi")
    assert time.monotonic() - started - INTERRUPT_AFTER < INTERRUPTED_WITHIN

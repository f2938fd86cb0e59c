"""asyncio: achat and astream_chat, concurrency on one loop, cancellation of a task
(seen by the server), and the sync API inside a running event loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from theory_llm import LLMError, LLMReply, MockProvider, ModelNotFound, get_llm_provider

from conftest import provider_for
from loopback import Loopback, Script


def test_achat_and_astream_chat(server: Loopback) -> None:
    llm = provider_for(server)

    async def main() -> tuple[LLMReply, list[str], LLMReply | None]:
        reply = await llm.achat("Hello", model="m")
        stream = llm.astream_chat("Hello", model="m")
        pieces = [piece async for piece in stream]
        return reply, pieces, stream.reply

    reply, pieces, streamed = asyncio.run(main())
    assert reply.text == "Hello, world!" and reply.model == "m"
    assert pieces == ["Hel", "lo", ", ", "world", "!"]
    assert streamed is not None and streamed.text == "Hello, world!"
    assert streamed.usage["tokens_out"] == 5


def test_achat_is_a_coroutine_that_sends_when_awaited(openai_server: Loopback) -> None:
    llm = provider_for(openai_server)

    async def main() -> str:
        pending = llm.achat("Hi")
        assert asyncio.iscoroutine(pending)
        await asyncio.sleep(0.1)
        assert openai_server.requests == []
        task = asyncio.create_task(pending)
        return (await task).text

    assert asyncio.run(main()) == "Hello, world!"


def test_astream_chat_sends_on_the_first_iteration(openai_server: Loopback) -> None:
    llm = provider_for(openai_server)

    async def main() -> None:
        stream = llm.astream_chat("Hi")
        await asyncio.sleep(0.1)
        assert openai_server.requests == []
        assert await stream.__anext__() == "Hel"
        await stream.aclose()

    asyncio.run(main())


def test_many_requests_at_once_on_one_loop(openai_server: Loopback) -> None:
    openai_server.script = Script(headers_delay=0.5)
    llm = provider_for(openai_server)

    async def main() -> list[LLMReply]:
        return await asyncio.gather(*(llm.achat("Hi") for _ in range(8)))

    started = time.monotonic()
    replies = asyncio.run(main())
    assert [r.text for r in replies] == ["Hello, world!"] * 8
    assert time.monotonic() - started < 1.0


def test_the_loop_keeps_running_while_a_stream_waits(openai_server: Loopback) -> None:
    openai_server.script = Script(delay=0.1)
    llm = provider_for(openai_server)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def main() -> str:
        ticker = asyncio.create_task(tick())
        text = "".join([p async for p in llm.astream_chat("Hi")])
        ticker.cancel()
        return text

    assert asyncio.run(main()) == "Hello, world!"
    assert ticks > 20


def test_cancelling_a_task_cancels_its_request(server: Loopback) -> None:
    server.script = Script(stall_after=2)
    llm = provider_for(server)

    async def read_all() -> list[str]:
        return [piece async for piece in llm.astream_chat("Hi")]

    async def main() -> float:
        task = asyncio.create_task(read_all())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic()

    cancelled_at = asyncio.run(main())
    closed_at = server.wait_cancelled(1, timeout=5)
    assert closed_at is not None and closed_at - cancelled_at < 1.0


def test_cancelling_an_achat_task_cancels_its_request(openai_server: Loopback) -> None:
    openai_server.script = Script(headers_delay=30)
    llm = provider_for(openai_server)

    async def main() -> float:
        task = asyncio.create_task(llm.achat("Hi"))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic()

    cancelled_at = asyncio.run(main())
    closed_at = openai_server.wait_cancelled(1, timeout=5)
    assert closed_at is not None and closed_at - cancelled_at < 1.0


def test_wait_for_timeout_cancels_the_request(openai_server: Loopback) -> None:
    openai_server.script = Script(headers_delay=30)
    llm = provider_for(openai_server)

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(llm.achat("Hi"), 0.3)

    asyncio.run(main())
    assert openai_server.wait_cancelled(1, timeout=5) is not None


def test_aclose_and_async_with_cancel(openai_server: Loopback) -> None:
    openai_server.script = Script(stall_after=2)
    llm = provider_for(openai_server)

    async def main() -> None:
        stream = llm.astream_chat("Hi")
        assert await stream.__anext__() == "Hel"
        await stream.aclose()
        assert stream.reply is not None and stream.reply.finish_reason == "cancelled"
        async with llm.astream_chat("Hi") as again:
            async for piece in again:
                assert piece == "Hel"
                break

    asyncio.run(main())
    assert openai_server.wait_cancelled(2, timeout=5) is not None


def test_a_dropped_async_iterator_cancels(openai_server: Loopback) -> None:
    openai_server.script = Script(stall_after=2)
    llm = provider_for(openai_server)

    async def main() -> None:
        async for piece in llm.astream_chat("Hi"):
            break

    asyncio.run(main())
    assert openai_server.wait_cancelled(1, timeout=5) is not None


def test_errors_are_raised_in_the_coroutine(ollama_server: Loopback) -> None:
    ollama_server.script = Script(status=404, error_body='{"error":"model \\"x\\" not found, try pulling it first"}')
    llm = provider_for(ollama_server)

    async def main() -> None:
        with pytest.raises(ModelNotFound):
            await llm.achat("Hi", model="x")
        with pytest.raises(ValueError):
            async for _ in llm.astream_chat("Hi", model="x"):
                pass

    asyncio.run(main())


def test_a_failure_mid_stream_is_raised_after_the_pieces() -> None:
    llm = MockProvider(chunks=["a", "b", "c"], delay=0.01, fail_after=(2, "server", "boom"))

    async def main() -> list[str]:
        pieces: list[str] = []
        with pytest.raises(LLMError) as caught:
            async for piece in llm.astream_chat("Hi"):
                pieces.append(piece)
        assert caught.value.partial is not None and caught.value.partial.text == "ab"
        return pieces

    assert asyncio.run(main()) == ["a", "b"]


def test_the_sync_api_works_inside_a_running_loop(openai_server: Loopback) -> None:
    # As in Jupyter: a loop is running, and sync calls must not try to run one.
    llm = provider_for(openai_server)

    async def main() -> tuple[str, str]:
        reply = llm.chat("Hi")
        streamed = "".join(llm.stream_chat("Hi"))
        return reply.text, streamed

    assert asyncio.run(main()) == ("Hello, world!", "Hello, world!")


def test_structured_output_in_async() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}

    async def main() -> object:
        return (await get_llm_provider("mock").achat("N?", json_schema=schema)).json

    value = asyncio.run(main())
    assert isinstance(value, dict) and isinstance(value["n"], int)


def test_achat_outside_a_loop_fails_when_run() -> None:
    coro = MockProvider().achat("Hi")
    with pytest.raises(RuntimeError):
        coro.send(None)
    coro.close()


EXIT_SCRIPT = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from loopback import Loopback
from conftest import provider_for
server = Loopback("openai")
llm = provider_for(server)
async def main():
    await asyncio.gather(*(llm.achat("Hi") for _ in range(8)))
    async for _ in llm.astream_chat("Hi"):
        pass
asyncio.run(main())
"""


def test_exit_right_after_async_requests_does_not_crash() -> None:
    # Regression: futures were completed from runtime threads that took the
    # interpreter lock; at exit CPython ended such a thread inside a Python call,
    # unwinding through Rust frames that then released Python objects without the
    # lock: a segmentation fault in about one run of five.
    import os
    import subprocess
    import sys

    script = EXIT_SCRIPT.format(tests=os.path.dirname(__file__))
    for run in range(20):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"run {run}: exit status {done.returncode}: {done.stderr[-2000:]}"

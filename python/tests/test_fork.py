"""fork(): a provider made (and used) before os.fork() works in the child, as with
Celery's prefork pool, gunicorn --preload and multiprocessing's fork start method;
never a hang. Every wait here is bounded."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from typing import Callable

import pytest

import theory_llm
from theory_llm import MockProvider, Provider

from conftest import provider_for
from loopback import Loopback, Script

CHILD_LIMIT = 20.0


def in_child(work: Callable[[], None]) -> int:
    """Runs `work` in a forked child; its exit status (0: it passed). A child that
    does not finish in time is killed and the test fails."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            code = 0
        except BaseException as e:  # noqa: BLE001 - reported by the exit status
            os.write(2, f"child failed: {e!r}\n".encode())
        finally:
            os._exit(code)
    deadline = time.monotonic() + CHILD_LIMIT
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the child hung for {CHILD_LIMIT} s")


def warm(llm: Provider) -> None:
    """Uses the provider in the parent: its runtime runs, its pool keeps a connection."""
    assert llm.chat("warm").text
    assert "".join(llm.stream_chat("warm"))


def test_a_provider_used_before_fork_works_in_the_child(server: Loopback) -> None:
    llm = provider_for(server)
    warm(llm)

    def child() -> None:
        assert llm.chat("Hi").text == "Hello, world!"
        assert "".join(llm.stream_chat("Hi")) == "Hello, world!"

        async def both() -> str:
            reply = await llm.achat("Hi")
            return reply.text + "".join([p async for p in llm.astream_chat("Hi")])

        assert asyncio.run(both()) == "Hello, world!" * 2

    assert in_child(child) == 0
    # The parent goes on as before.
    assert llm.chat("Hi").text == "Hello, world!"


def test_the_child_does_not_use_the_parent_s_connection(openai_server: Loopback) -> None:
    llm = provider_for(openai_server)
    warm(llm)
    before = len(openai_server.connections)
    assert in_child(lambda: llm.chat("Hi") and None) == 0
    # The child opened a connection of its own.
    assert len(openai_server.connections) > before


def test_mock_and_registry_providers_in_a_child(monkeypatch: pytest.MonkeyPatch, openai_server: Loopback) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.url)
    registry = theory_llm.get_llm_provider("openai")
    mock = MockProvider(chunks=["x", "y"], delay=0.01)
    warm(registry)
    warm(mock)

    def child() -> None:
        assert registry.chat("Hi").text == "Hello, world!"
        assert mock.chat("Hi").text == "xy"

    assert in_child(child) == 0


def test_a_fork_during_requests_in_other_threads(openai_server: Loopback) -> None:
    # Threads of the parent are mid-request (holding the runtime's locks, maybe) when
    # it forks: the child still works.
    import threading

    openai_server.script = Script(delay=0.01)
    llm = provider_for(openai_server)
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            llm.chat("Hi")

    threads = [threading.Thread(target=busy) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.2)
        for _ in range(5):
            assert in_child(lambda: llm.chat("Hi") and None) == 0
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)


def test_a_stream_started_before_fork_is_refused_in_the_child(openai_server: Loopback) -> None:
    openai_server.script = Script(stall_after=2)
    llm = provider_for(openai_server)
    stream = llm.stream_chat("Hi")
    assert next(stream) == "Hel"

    def child() -> None:
        with pytest.raises(RuntimeError, match="another process"):
            next(stream)

    assert in_child(child) == 0
    assert next(stream) == "lo"  # the parent's stream is untouched
    stream.close()


# multiprocessing with the fork start method: the provider is a module global made
# before the pool, as in a preloaded app.
_POOL_LLM: Provider | None = None


def _pool_chat(prompt: str) -> str:
    assert _POOL_LLM is not None
    return _POOL_LLM.chat(prompt).text


def test_multiprocessing_fork_pool(openai_server: Loopback) -> None:
    global _POOL_LLM
    _POOL_LLM = provider_for(openai_server)
    warm(_POOL_LLM)
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        result = pool.map_async(_pool_chat, ["a", "b", "c", "d"])
        assert result.get(timeout=CHILD_LIMIT) == ["Hello, world!"] * 4
    _POOL_LLM = None


def _process_target(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    assert _POOL_LLM is not None
    queue.put("".join(_POOL_LLM.stream_chat("Hi")))


def test_multiprocessing_fork_process(ollama_server: Loopback) -> None:
    global _POOL_LLM
    _POOL_LLM = provider_for(ollama_server)
    warm(_POOL_LLM)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_process_target, args=(queue,))
    process.start()
    try:
        assert queue.get(timeout=CHILD_LIMIT) == "Hello, world!"
    finally:
        process.join(timeout=CHILD_LIMIT)
        if process.is_alive():
            process.kill()
            pytest.fail("the child hung")
    assert process.exitcode == 0
    _POOL_LLM = None

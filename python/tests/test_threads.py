"""The interpreter lock is released while waiting: threads sharing one provider run
their requests at the same time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from theory_llm import LLMReply, MockProvider

from conftest import provider_for
from loopback import Loopback, Script

DELAY = 0.5
THREADS = 8


def timed(fn: object, n: int) -> tuple[float, list[object]]:
    with ThreadPoolExecutor(max_workers=n) as pool:
        started = time.monotonic()
        results = list(pool.map(lambda _: fn(), range(n)))  # type: ignore[operator]
        return time.monotonic() - started, results


def test_eight_threads_chat_at_once_on_one_provider(server: Loopback) -> None:
    server.script = Script(headers_delay=DELAY)
    llm = provider_for(server)
    wall, replies = timed(lambda: llm.chat("Hi"), THREADS)
    assert all(isinstance(r, LLMReply) and r.text == "Hello, world!" for r in replies)
    # One after the other would take THREADS * DELAY = 4 s.
    assert wall < 2 * DELAY, f"{THREADS} requests of {DELAY} s took {wall:.2f} s"
    assert len(server.requests) == THREADS


def test_eight_threads_stream_at_once(openai_server: Loopback) -> None:
    openai_server.script = Script(delay=DELAY / 5)  # 5 pieces: DELAY per stream
    llm = provider_for(openai_server)
    wall, texts = timed(lambda: "".join(llm.stream_chat("Hi")), THREADS)
    assert texts == ["Hello, world!"] * THREADS
    assert wall < 2 * DELAY, f"took {wall:.2f} s"


def test_python_keeps_running_while_a_request_waits(openai_server: Loopback) -> None:
    # A thread counting in pure Python makes progress while the main thread waits.
    openai_server.script = Script(headers_delay=DELAY)
    llm = provider_for(openai_server)
    count = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        before = count
        llm.chat("Hi")
        assert count - before > 10_000
    finally:
        stop.set()
        spinner.join()


def test_the_mock_with_a_delay_releases_the_lock_too() -> None:
    llm = MockProvider(chunks=["a", "b"], delay=0.2)
    wall, texts = timed(lambda: llm.chat("Hi").text, THREADS)
    assert texts == ["ab"] * THREADS
    assert wall < 0.6 * 2, f"took {wall:.2f} s"

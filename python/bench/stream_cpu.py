"""Python CPU per streamed chunk: theory_llm's `for piece in llm.stream_chat(...)`
against openai-python's `client.chat.completions.create(stream=True)` and
ollama-python's `client.chat(stream=True)`, on the same loopback servers, in one run.

    pip install ./python openai ollama
    python python/bench/stream_cpu.py [--chunks 2000] [--requests 5] [--rounds 5]

The servers (python/tests/loopback.py, OpenAI SSE and Ollama NDJSON) run in other
processes, so the CPU measured (time.process_time: every thread of this process,
the Rust runtime's included) is the client's alone. Each client reads the same
replies of --chunks text chunks; a round reads --requests replies with each client,
the clients in turn; the figure is the median of the rounds, per chunk. Two
regimes, one after the other: "burst" servers write each reply in one go (the cost
of decoding and handing chunks to Python), "paced" servers write each frame on its
own (as a model streams tokens: a wake-up per chunk). Prints each client's figure
and the ratios; --json prints them as one object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HERE = os.path.dirname(os.path.abspath(__file__))
LOOPBACK = os.path.join(HERE, "..", "tests", "loopback.py")
MESSAGES = [{"role": "user", "content": "Count."}]


@contextmanager
def server(kind: str, chunks: int, burst: bool) -> Iterator[str]:
    """A loopback server of `kind` in another process; its base URL."""
    process = subprocess.Popen([sys.executable, LOOPBACK, kind, str(chunks), *(["burst"] if burst else [])],
                               stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


def theory_llm_openai(url: str) -> Callable[[], int]:
    import theory_llm

    llm = theory_llm.OpenAIProvider(api_key="sk-bench", base_url=url)

    def read() -> int:
        n = 0
        for _piece in llm.stream_chat("Count.", model="bench"):
            n += 1
        return n

    return read


def theory_llm_ollama(url: str) -> Callable[[], int]:
    import theory_llm

    llm = theory_llm.OllamaProvider(url)

    def read() -> int:
        n = 0
        for _piece in llm.stream_chat("Count.", model="bench"):
            n += 1
        return n

    return read


def openai_python(url: str) -> Callable[[], int]:
    import openai

    client = openai.OpenAI(api_key="sk-bench", base_url=url, max_retries=0)

    def read() -> int:
        n = 0
        stream = client.chat.completions.create(model="bench", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
                                                stream_options={"include_usage": True})
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                n += 1
        return n

    return read


def ollama_python(url: str) -> Callable[[], int]:
    import ollama

    client = ollama.Client(host=url)

    def read() -> int:
        n = 0
        for part in client.chat(model="bench", messages=MESSAGES, stream=True):
            if part["message"]["content"]:
                n += 1
        return n

    return read


def measure(read: Callable[[], int], requests: int, chunks: int) -> float:
    """CPU microseconds per chunk over `requests` replies."""
    cpu = time.process_time()
    seen = sum(read() for _ in range(requests))
    cpu = time.process_time() - cpu
    assert seen == requests * chunks, (seen, requests * chunks)
    return cpu / seen * 1e6


def run(chunks: int, requests: int, rounds: int, burst: bool) -> dict[str, list[float]]:
    """Each client's CPU per chunk in each round, on servers that write each reply in
    one go (`burst`) or each frame in a write of its own."""
    with server("openai", chunks, burst) as openai_url, server("ollama", chunks, burst) as ollama_url:
        clients: dict[str, Callable[[], int]] = {
            "theory_llm (OpenAI SSE)": theory_llm_openai(openai_url),
            "openai-python": openai_python(openai_url),
            "theory_llm (Ollama NDJSON)": theory_llm_ollama(ollama_url),
            "ollama-python": ollama_python(ollama_url),
        }
        for read in clients.values():  # warm up: connections, imports, caches
            read()
        samples: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(rounds):
            for name, read in clients.items():
                samples[name].append(measure(read, requests, chunks))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=2000, help="text chunks per reply")
    parser.add_argument("--requests", type=int, default=5, help="replies per client per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    report: dict[str, object] = {"chunks_per_reply": args.chunks, "replies_per_round": args.requests,
                                 "rounds": args.rounds}
    for regime, burst in (("burst", True), ("paced", False)):
        samples = run(args.chunks, args.requests, args.rounds, burst)
        per_chunk = {name: statistics.median(values) for name, values in samples.items()}
        ratios = {
            "theory_llm / openai-python": per_chunk["theory_llm (OpenAI SSE)"] / per_chunk["openai-python"],
            "theory_llm / ollama-python": per_chunk["theory_llm (Ollama NDJSON)"] / per_chunk["ollama-python"],
        }
        report[regime] = {"cpu_us_per_chunk": per_chunk, "ratios": ratios}
        if args.json:
            continue
        what = ("each reply in one write: the cost of decoding" if burst
                else "each frame in a write of its own: a wake-up per chunk")
        print(f"{regime} ({what}); CPU us per chunk, median of {args.rounds} rounds of "
              f"{args.requests} replies x {args.chunks} chunks:")
        for name, us in per_chunk.items():
            spread = f"{min(samples[name]):.2f}-{max(samples[name]):.2f}"
            print(f"  {name:28} {us:8.2f}  (rounds: {spread})")
        for name, ratio in ratios.items():
            print(f"  {name} (same server): {ratio:.3f}x")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the committed seed corpus fuzz/seeds/<target>/ from tests/transcripts.

Bodies are cut to at most 4 KiB (libFuzzer's default input size) at a frame boundary.
The `sse`, `ndjson`, `gemini` and `bedrock` inputs start with a control byte (0: read the body whole; see
theory_llm::fuzzing::fuzz_openai_sse). Run from the repository root:

    python3 fuzz/make_seeds.py
"""
import hashlib
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
T = ROOT / "tests" / "transcripts"
OUT = ROOT / "fuzz" / "seeds"
MAX = 4096

SSE = [
    "openai-docs/chat-stream.openapi-example.sse",
    "openai-docs/chat-stream-obfuscation.openapi-example.sse",
    "live/chat_max_tokens_1_include_usage.body",
    "live/chat_unicode_emoji_cjk_include_usage.body",
    "llama-server/stream_include_usage.body",
    "llama-server/context_exceeded_stream.body",
    "llama-server/midstream_error_kv_pool_exhausted.body",
]
GEMINI = [
    "gemini/stream.body",
    "gemini/text_stream.sse",
    "gemini/thinking_stream.sse",
    "gemini/parallel_calls_stream.sse",
    "gemini/call_with_id_usage_last.sse",
    "gemini/blocked_prompt_stream.sse",
    "gemini/malformed_function_call_stream.sse",
    "gemini/error_after_text_stream.sse",
]
NDJSON = [
    "ollama-docs/chat-stream.ndjson",
    "ollama-docs/chat-stream-tools.ndjson",
    "ollama-docs/generate-midstream-error.ndjson",
    "live/ollama_chat_num_predict_5.body",
    "ollama-compat/chat_think.body",
    "ollama-compat/chat_backend_error_stream.body",
    "ollama-compat/chat_backend_midstream_error.body",
]


def cut(body: bytes, sep: bytes) -> bytes:
    """The body if it is small; else its start, then its last frame (the ending)."""
    if len(body) <= MAX:
        return body
    frames = body.split(sep)
    head, tail = b"", sep.join(frames[-2:])
    for frame in frames:
        if len(head) + len(frame) + len(sep) + len(tail) > MAX:
            break
        head += frame + sep
    return head + tail


def write(target: str, data: bytes) -> None:
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    frames, lines = set(), set()
    for name in SSE:
        body = cut((T / name).read_bytes(), b"\n\n")
        write("sse", b"\x00" + body)
        frames.update(
            e[len(b"data: "):] for e in body.split(b"\n\n") if e.startswith(b"data: ")
        )
    for name in GEMINI:
        body = (T / name).read_bytes().replace(b"\r\n", b"\n")
        write("gemini", b"\x00" + cut(body, b"\n\n"))
    for name in NDJSON:
        body = cut((T / name).read_bytes(), b"\n")
        write("ndjson", b"\x00" + body)
        lines.update(line for line in body.split(b"\n") if line.strip())
    for frame in sorted(frames, key=len)[:12] + sorted(frames, key=len)[-4:]:
        write("map_openai", frame[:MAX])
    for line in sorted(lines, key=len)[:12] + sorted(lines, key=len)[-4:]:
        write("map_ollama", line[:MAX])
    # Bedrock's bodies are lines of `event-type|payload`, as the `bedrock` target reads
    # its input (tests/transcripts/bedrock/README.md).
    for path in sorted((T / "bedrock").glob("*.events")):
        write("bedrock", b"\x00" + path.read_bytes()[:MAX])


if __name__ == "__main__":
    main()

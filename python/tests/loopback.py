"""Loopback HTTP servers that speak the wire formats the providers read: OpenAI's Chat
Completions (SSE), Ollama's /api/chat (NDJSON) and Anthropic's Messages (SSE).

Each serves a scripted reply (pieces, a delay between them, a stall, an error status,
a dropped connection) and records what it saw: the requests, and each connection's
life, so that a test can tell when the client closed a connection before its
response was complete (which is how a cancelled request looks from the server).

Run as a script (``python loopback.py openai|ollama|anthropic PIECES [burst]``) it
serves PIECES pieces per request from another process and prints its URL, for
benchmarks: each frame in a write of its own, or with ``burst`` the whole body in one.
"""

from __future__ import annotations

import json
import select
import socket
import socketserver
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# The longest a stalled response waits for its client before giving up (a bound, so
# that a test that fails cannot leave a thread behind for long).
STALL_LIMIT = 30.0


@dataclass
class Script:
    """What the server answers to the next requests."""

    pieces: list[str] = field(default_factory=lambda: ["Hel", "lo", ", ", "world", "!"])
    delay: float = 0.0  # seconds before each piece
    headers_delay: float = 0.0  # seconds before the response head
    stall_after: int | None = None  # send this many pieces, then wait for the client to leave
    drop_after: int | None = None  # send this many pieces, then close the connection
    status: int = 200
    error_body: str = ""
    error_headers: dict[str, str] = field(default_factory=dict)
    usage: tuple[int, int] = (7, 5)
    finish_reason: str | None = None  # default: the format's own word for a normal end
    tool_call: tuple[str, str, str] | None = None  # (id, name, arguments JSON) after the text
    model: str = "loopback-model"
    burst: bool = False  # the whole body in one write (else one write per frame)


@dataclass
class Connection:
    opened: float
    closed: float | None = None
    # Whether the response in progress when the connection closed had been sent whole.
    completed: bool = True


class Loopback:
    """One server on 127.0.0.1, on a free port, serving one wire format."""

    def __init__(self, kind: str) -> None:
        assert kind in ("openai", "ollama", "anthropic")
        self.kind = kind
        self.script = Script()
        self.requests: list[dict[str, Any]] = []
        self.connections: list[Connection] = []
        self.changed = threading.Condition()
        loopback = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                loopback._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128  # many connections at once (the default is 5)

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # -- what a test reads ---------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL a provider is given (OpenAI's includes /v1)."""
        if self.kind == "openai":
            return f"http://127.0.0.1:{self.port}/v1"
        return f"http://127.0.0.1:{self.port}"

    def wait_cancelled(self, count: int = 1, timeout: float = 5.0) -> float | None:
        """Waits until `count` connections were closed by the client before their
        response was complete; returns when the last of them closed, or None."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                cut = [c.closed for c in self.connections if c.closed is not None and not c.completed]
                if len(cut) >= count:
                    return max(t for t in cut if t is not None)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def cancelled(self) -> int:
        with self.changed:
            return sum(1 for c in self.connections if c.closed is not None and not c.completed)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- serving -------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        # Each frame goes out when written, as a server that streams sends it.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(opened=time.monotonic())
        with self.changed:
            self.connections.append(conn)
            self.changed.notify_all()
        reader = sock.makefile("rb")
        try:
            while True:
                request = _read_request(reader)
                if request is None:
                    break
                with self.changed:
                    self.requests.append(request)
                conn.completed = False
                if not self._respond(sock, request):
                    break
                conn.completed = True
        except (ConnectionError, OSError):
            pass
        finally:
            with self.changed:
                conn.closed = time.monotonic()
                self.changed.notify_all()
            try:
                sock.close()
            except OSError:
                pass

    def _respond(self, sock: socket.socket, request: dict[str, Any]) -> bool:
        """Sends the scripted response; False when the connection is over."""
        script = self.script
        if script.headers_delay and not _sleep_unless_closed(sock, script.headers_delay):
            return False
        if script.status != 200:
            body = script.error_body.encode()
            extra = "".join(f"{k}: {v}\r\n" for k, v in script.error_headers.items())
            sock.sendall(
                f"HTTP/1.1 {script.status} Error\r\nContent-Type: application/json\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            return True
        media = "application/x-ndjson" if self.kind == "ollama" else "text/event-stream"
        sock.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: {media}\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        frames = render(self.kind, script, request.get("body") or {})
        if script.burst:
            sock.sendall(b"".join(b"%x\r\n%s\r\n" % (len(f), f) for f, _ in frames) + b"0\r\n\r\n")
            return True
        sent = 0
        for frame, is_piece in frames:
            if is_piece:
                if script.stall_after is not None and sent >= script.stall_after:
                    _wait_for_close(sock)
                    return False
                if script.drop_after is not None and sent >= script.drop_after:
                    sock.shutdown(socket.SHUT_RDWR)
                    return False
                if script.delay and not _sleep_unless_closed(sock, script.delay):
                    return False
                sent += 1
            _send_chunk(sock, frame)
        sock.sendall(b"0\r\n\r\n")
        return True


def render(kind: str, script: Script, body: dict[str, Any]) -> list[tuple[bytes, bool]]:
    """The response body's frames, each marked whether it is a text piece."""
    model = body.get("model") or script.model
    if kind == "openai":
        return _openai(script, model)
    if kind == "ollama":
        return _ollama(script, model)
    return _anthropic(script, model)


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    text = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {text}\n\n".encode()


def _openai(script: Script, model: str) -> list[tuple[bytes, bool]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse({"id": "chatcmpl-loop", "object": "chat.completion.chunk", "created": 1, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    frames = [(chunk({"role": "assistant", "content": piece}), True) for piece in script.pieces]
    if script.tool_call:
        call_id, name, arguments = script.tool_call
        frames.append((chunk({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                              "function": {"name": name, "arguments": arguments}}]}), False))
    frames.append((chunk({}, script.finish_reason or ("tool_calls" if script.tool_call else "stop")), False))
    prompt, completion = script.usage
    frames.append((_sse({"id": "chatcmpl-loop", "object": "chat.completion.chunk", "created": 1, "model": model,
                         "choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                                  "total_tokens": prompt + completion}}), False))
    frames.append((_sse("[DONE]"), False))
    return frames


def _ollama(script: Script, model: str) -> list[tuple[bytes, bool]]:
    def line(message: dict[str, Any], **more: Any) -> bytes:
        return (json.dumps({"model": model, "created_at": "2026-01-01T00:00:00Z", "message": message, **more}) + "\n").encode()

    frames = [(line({"role": "assistant", "content": piece}, done=False), True) for piece in script.pieces]
    prompt, completion = script.usage
    frames.append((line({"role": "assistant", "content": ""}, done=True, done_reason=script.finish_reason or "stop",
                        prompt_eval_count=prompt, eval_count=completion, total_duration=1_000_000), False))
    return frames


def _anthropic(script: Script, model: str) -> list[tuple[bytes, bool]]:
    prompt, completion = script.usage
    frames = [(_sse({"type": "message_start", "message": {"id": "msg_loop", "type": "message", "role": "assistant",
                                                           "model": model, "content": [], "stop_reason": None,
                                                           "usage": {"input_tokens": prompt, "output_tokens": 1}}},
                    "message_start"), False),
              (_sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                    "content_block_start"), False)]
    frames += [(_sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
                     "content_block_delta"), True) for piece in script.pieces]
    frames.append((_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"), False))
    frames.append((_sse({"type": "message_delta", "delta": {"stop_reason": script.finish_reason or "end_turn"},
                         "usage": {"output_tokens": completion}}, "message_delta"), False))
    frames.append((_sse({"type": "message_stop"}, "message_stop"), False))
    return frames


def _send_chunk(sock: socket.socket, data: bytes) -> None:
    sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))


def _closed(sock: socket.socket) -> bool:
    """Whether the client has closed its end (without taking any request bytes)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _sleep_unless_closed(sock: socket.socket, seconds: float) -> bool:
    """Sleeps; False (at once) if the client closes the connection meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return not _closed(sock)
        readable, _, _ = select.select([sock], [], [], min(left, 0.01))
        if readable and _closed(sock):
            return False


def _wait_for_close(sock: socket.socket) -> None:
    deadline = time.monotonic() + STALL_LIMIT
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.01)
        if readable and _closed(sock):
            return


def _read_request(reader: Any) -> dict[str, Any] | None:
    line = reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        h = reader.readline()
        if not h or h in (b"\r\n", b"\n"):
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    raw = reader.read(length) if length else b""
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return {"method": method, "path": path, "headers": headers, "body": body}


def _main() -> None:
    kind, pieces, burst = sys.argv[1], int(sys.argv[2]), sys.argv[3:] == ["burst"]
    server = Loopback(kind)
    server.script = Script(pieces=[f"w{i} " for i in range(pieces)], usage=(10, pieces), burst=burst)
    print(server.url, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        server.close()


if __name__ == "__main__":
    _main()

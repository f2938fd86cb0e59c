#!/usr/bin/env python3
"""The AWS event-stream framer cross-checked against botocore's decoder.

Generates AWS event-stream bodies from a fixed seed: valid messages with headers of
every type and random payloads, and broken ones (a byte flipped, an unknown header
type, a header cut short, a name given twice, text that is not UTF-8, lengths that do
not fit, each with its checksums made right again where the break is not in them).
Each body is decoded by botocore's `EventStreamBuffer` (AWS's Python SDK), and what it
gave, messages or a failure, is written with the body to
tests/transcripts/bedrock/botocore_eventstream.json. The crate's test
`bedrock::the_framer_agrees_with_botocore_on_generated_messages` (tests/it/bedrock.rs)
frames every body and must give the same messages, and fail where botocore failed.

    scripts/eventstream_crosscheck.py write   # regenerate the file with botocore
    scripts/eventstream_crosscheck.py check   # regenerate in memory, compare (CI)

botocore is installed from PyPI into a venv under
$HOME/.cache/theory-llm-botocore (THEORY_LLM_BOTOCORE_HOME), at a pinned version.
"""
import json
import os
import pathlib
import random
import struct
import subprocess
import sys
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "transcripts" / "bedrock" / "botocore_eventstream.json"
HOME = pathlib.Path(
    os.environ.get("THEORY_LLM_BOTOCORE_HOME", pathlib.Path.home() / ".cache" / "theory-llm-botocore")
)
BOTOCORE = "botocore==1.40.76"
KNOWN = [":message-type", ":event-type", ":exception-type", ":content-type", ":error-code", ":error-message"]
CASES = 400


def venv_python() -> pathlib.Path:
    """The venv's interpreter, with botocore installed (once)."""
    py = HOME / "venv" / "bin" / "python"
    if not py.exists():
        HOME.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(HOME / "venv")], check=True)
    probe = subprocess.run([str(py), "-c", "import botocore"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "-q", BOTOCORE], check=True)
    return py


def crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def header(name: bytes, kind: int, value: bytes) -> bytes:
    return bytes([len(name)]) + name + bytes([kind]) + value


def string_value(text: bytes) -> bytes:
    return struct.pack(">H", len(text)) + text


def frame(headers: bytes, payload: bytes, total=None, headers_len=None) -> bytes:
    total = 16 + len(headers) + len(payload) if total is None else total
    headers_len = len(headers) if headers_len is None else headers_len
    prelude = struct.pack(">II", total, headers_len)
    out = prelude + struct.pack(">I", crc(prelude)) + headers + payload
    return out + struct.pack(">I", crc(out))


def random_header(rng: random.Random, used: set) -> bytes:
    if rng.random() < 0.4:
        name = rng.choice(KNOWN)
        if name in used:
            name = f"x-{len(used)}"
        used.add(name)
        value = rng.choice(["event", "exception", "error", "contentBlockDelta", "application/json", "throttlingException", "é🦀", ""])
        return header(name.encode(), 7, string_value(value.encode()))
    name = f"h{len(used)}-{rng.randrange(1000)}"
    used.add(name)
    kind = rng.randrange(10)
    sizes = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
    if kind in (0, 1):
        value = b""
    elif kind in sizes:
        value = bytes(rng.randrange(256) for _ in range(sizes[kind]))
    elif kind == 6:
        value = string_value(bytes(rng.randrange(256) for _ in range(rng.randrange(20))))
    else:
        value = string_value("".join(rng.choice("ab é🦀") for _ in range(rng.randrange(12))).encode())
    return header(name.encode(), kind, value)


def valid(rng: random.Random) -> tuple:
    used = set()
    headers = b"".join(random_header(rng, used) for _ in range(rng.randrange(6)))
    payload = bytes(rng.randrange(256) for _ in range(rng.randrange(120)))
    if rng.random() < 0.5:
        payload = json.dumps({"contentBlockIndex": 0, "delta": {"text": "hi"}}).encode()
    return headers, payload


def broken(rng: random.Random) -> bytes:
    headers, payload = valid(rng)
    how = rng.randrange(7)
    if how == 0:  # a byte flipped: a checksum fails
        body = bytearray(frame(headers, payload))
        body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
        return bytes(body)
    if how == 1:  # an unknown header type
        return frame(headers + header(b"bad", 10 + rng.randrange(200), b""), payload)
    if how == 2:  # the last header cut short
        extra = header(b"cut", 7, string_value(b"abcdef"))
        return frame(headers + extra[: rng.randrange(1, len(extra))], payload)
    if how == 3:  # a name given twice
        twice = header(b"dup", 4, b"\x00\x00\x00\x01")
        return frame(headers + twice + twice, payload)
    if how == 4:  # a string that is not UTF-8
        return frame(headers + header(b":event-type", 7, string_value(b"\xff\xfe")), payload)
    if how == 5:  # a name that is not UTF-8
        return frame(headers + header(b"\xc3", 0, b""), payload)
    # headers longer than the message allows, checksums right
    return frame(headers, payload, headers_len=len(headers) + len(payload) + 1 + rng.randrange(50))


def bodies() -> list:
    rng = random.Random(20240530)
    out = []
    for i in range(CASES):
        count = rng.randrange(1, 4)
        parts = [frame(*valid(rng)) for _ in range(count)]
        if i % 5 == 4:
            parts.insert(rng.randrange(len(parts) + 1), broken(rng))
        out.append(b"".join(parts))
    return out


DECODE = r"""
import json, sys
import botocore
from botocore.eventstream import EventStreamBuffer
KNOWN = %r
cases = []
for line in sys.stdin:
    body = bytes.fromhex(line.strip())
    buf = EventStreamBuffer()
    buf.add_data(body)
    messages, failed = [], False
    try:
        for m in buf:
            headers = {k: (v if isinstance(v, str) else None) for k, v in m.headers.items() if k in KNOWN}
            messages.append({"headers": headers, "payload": m.payload.hex()})
    except Exception as e:
        failed = type(e).__name__
    cases.append({"body": body.hex(), "messages": messages, "failed": failed})
# One case a line.
lines = ",\n".join(json.dumps(case, sort_keys=True) for case in cases)
print('{"botocore": ' + json.dumps(botocore.__version__) + ', "cases": [\n' + lines + '\n]}')
""" % (KNOWN,)


def decoded() -> str:
    py = venv_python()
    stdin = "\n".join(b.hex() for b in bodies()) + "\n"
    run = subprocess.run([str(py), "-c", DECODE], input=stdin, capture_output=True, text=True, check=True)
    return run.stdout


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "check"
    text = decoded()
    if mode == "write":
        OUT.write_text(text)
        cases = json.loads(text)["cases"]
        print(f"wrote {OUT.relative_to(ROOT)}: {len(cases)} bodies, {sum(1 for c in cases if c['failed'])} refused by botocore")
        return 0
    if mode == "check":
        if OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is not what botocore gives now: run `scripts/eventstream_crosscheck.py write`", file=sys.stderr)
            return 1
        print(f"{OUT.relative_to(ROOT)}: botocore agrees")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""`python -m theory_llm`: hello_llm's job for --provider, --model, --prompt and
--json, with its output and exit statuses. Where the hello_llm binary is at hand
(HELLO_LLM, set by run_tests.sh), the two are run side by side."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import theory_llm

from loopback import Loopback, Script

HELLO_LLM = os.environ.get("HELLO_LLM")


def cli(*args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "theory_llm", *args], capture_output=True, text=True,
                          timeout=30, env=env, **kw)  # type: ignore[call-overload]


def hello(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert HELLO_LLM
    return subprocess.run([HELLO_LLM, *args], capture_output=True, text=True, timeout=30, env=env)


def without_timings(text: str) -> str:
    return re.sub(r"(ttft|latency) [0-9.]+ ms", r"\1 _ ms", text)


def test_plain_run_prints_text_live_and_the_usage_line() -> None:
    run = cli()
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Hello from the mock provider!") and run.stdout.endswith("\n")
    assert run.stderr.startswith("[mock · mock · ") and "tokens in" in run.stderr and "free · stop]" in run.stderr


def test_json_prints_the_reply_object() -> None:
    run = cli("--provider", "mock", "--model", "m2", "--prompt", "Hi there", "--json")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    reply = json.loads(run.stdout)
    assert run.stdout.count("\n") == 1
    assert reply["provider"] == "mock" and reply["model"] == "m2" and '"Hi there"' in reply["text"]
    expected = theory_llm.get_llm_provider("mock").chat("Hi there", model="m2").to_dict()
    for d in (reply, expected):
        d["usage"].pop("latency_ms"), d["usage"].pop("ttft_ms")
    assert reply == expected


@pytest.mark.skipif(not HELLO_LLM, reason="HELLO_LLM (the hello_llm binary) is not set; run_tests.sh sets it")
@pytest.mark.parametrize("args", [[], ["--json"], ["--prompt", "Tabs\tand\x1b[2J escapes", "--model", "x"],
                                  ["--provider", "nope", "--json"], ["--provider", "nope"], ["--bogus"]])
def test_the_same_output_as_hello_llm(args: list[str]) -> None:
    ours, theirs = cli(*args), hello(*args)
    assert ours.returncode == theirs.returncode
    if "--json" in args and ours.returncode == 0:
        a, b = json.loads(ours.stdout), json.loads(theirs.stdout)
        assert list(a) == list(b)
        for d in (a, b):
            d["usage"].pop("latency_ms"), d["usage"].pop("ttft_ms")
        assert a == b
    elif ours.returncode == 2:
        # Both refuse the flag the same way (the usage texts differ: fewer flags here).
        assert ours.stderr.splitlines()[0] == theirs.stderr.splitlines()[0]
    else:
        assert ours.stdout == theirs.stdout
        assert without_timings(ours.stderr) == without_timings(theirs.stderr)


def test_an_unknown_provider_exits_1_with_the_error_object() -> None:
    run = cli("--provider", "nonexistent", "--json")
    assert run.returncode == 1
    error = json.loads(run.stdout)["error"]
    assert error["kind"] == "provider_unavailable" and error["status"] is None
    assert "unknown provider" in run.stderr


def test_a_bad_command_line_exits_2() -> None:
    for args in (["--bogus"], ["--prompt"], ["--provider", " "], ["extra"]):
        run = cli(*args)
        assert run.returncode == 2, args
        assert run.stderr.startswith("error: ") and "USAGE:" in run.stderr


def test_help_lists_the_registry_s_providers() -> None:
    run = cli("--help")
    assert run.returncode == 0
    assert ", ".join(theory_llm.provider_names()) in run.stdout


def test_output_that_cannot_be_written_is_a_failure() -> None:
    with open("/dev/full", "w") as full:
        for args in ([], ["--json"]):
            run = subprocess.run([sys.executable, "-m", "theory_llm", *args], stdout=full, stderr=subprocess.PIPE,
                                 text=True, timeout=30)
            assert run.returncode == 1, args
            assert "cannot write" in run.stderr


def test_a_real_provider_from_the_environment(openai_server: Loopback) -> None:
    env = dict(os.environ, OPENAI_BASE_URL=openai_server.url)
    run = cli("--provider", "openai", "--model", "m", "--prompt", "Hi", env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "Hello, world!\n"
    assert run.stderr.startswith("[openai · m · 7 tokens in, 5 out · ")
    assert openai_server.requests[-1]["body"]["messages"] == [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_ctrl_c_exits_130_and_cancels(openai_server: Loopback, json_flag: list[str]) -> None:
    openai_server.script = Script(stall_after=2)
    env = dict(os.environ, OPENAI_BASE_URL=openai_server.url)
    child = subprocess.Popen([sys.executable, "-m", "theory_llm", "--provider", "openai", *json_flag],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 20
        while not openai_server.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the two pieces arrive, then the server stalls
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=10)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert openai_server.wait_cancelled(1, timeout=5) is not None
    assert "error: interrupted (Ctrl-C)" in err
    if json_flag:
        printed = json.loads(out)
        assert printed["error"]["kind"] == "cancelled"
        assert printed["partial"]["text"] == "Hello" and printed["partial"]["usage"]["tokens_estimated"]
    else:
        assert out == "Hello\n"

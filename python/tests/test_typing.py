"""The type stubs: `mypy --strict` accepts the issue's examples and the package, and
the examples run."""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(__file__)


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", *args],
                          capture_output=True, text=True, timeout=300, cwd=HERE)


def test_mypy_strict_accepts_the_examples_and_the_package() -> None:
    for args in (["typing_examples.py"], ["-p", "theory_llm"]):
        run = mypy(*args)
        assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_strict_rejects_a_misuse() -> None:
    # The stubs are not Any: a wrong type is caught.
    bad = "from theory_llm import get_llm_provider\nx: int = get_llm_provider('mock').chat('Hi').text\n"
    run = mypy("-c", bad)
    assert run.returncode == 1 and "Incompatible types in assignment" in run.stdout, run.stdout


def test_the_examples_run() -> None:
    run = subprocess.run([sys.executable, os.path.join(HERE, "typing_examples.py")], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr

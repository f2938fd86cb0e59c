#!/usr/bin/env bash
# Builds the Python package the way a user installs it, `pip install ./python` into a
# fresh virtual environment (pip runs maturin, which builds the Rust extension), then
# runs its test suite (python/tests) from outside the source tree, against that install.
#
# Environment (all optional):
#   CARGO_TARGET_DIR   where cargo builds (reused between runs; default: python/target)
#   PYTHON             the interpreter for the venv (default: python3, CPython >= 3.10)
#   HELLO_LLM          the hello_llm binary, to compare the CLIs; built here if unset
#   OPENAI_BASE_URL, ANTHROPIC_BASE_URL, OLLAMA_HOST, THEORY_LLM_LIVE_MODEL: the real
#                      servers (scripts/realservers.sh start); THEORY_LLM_LIVE=1 makes
#                      the live tests fail, not skip, without them
# Arguments are passed to pytest (e.g. -k fork).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"

if [ -z "${HELLO_LLM:-}" ]; then
  HELLO_LLM="$(cd "$repo" && cargo build -q --example hello_llm --message-format=json |
    "${PYTHON:-python3}" -c 'import json,sys
for m in map(json.loads, sys.stdin):
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "hello_llm" and m.get("executable"):
        print(m["executable"])')"
fi
export HELLO_LLM

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"${PYTHON:-python3}" -m venv "$scratch/venv"
py="$scratch/venv/bin/python"
"$py" -m pip install --quiet --upgrade pip
"$py" -m pip install --quiet "$here[test]" pytest-timeout
# From the tests' folder, so that `import theory_llm` is the installed package.
cd "$here/tests"
"$py" -m pytest -p no:cacheprovider --timeout 120 -q "$@"

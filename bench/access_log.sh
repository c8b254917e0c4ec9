#!/usr/bin/env bash
# What the access log costs as users run it (issue 18, target 1): server CPU per keep-alive
# request of the web hello world (`helloworld`) with logging off, with its default
# `--logging=info` to a file and to stderr (redirected to a file), beside nginx with its access
# log off and with a buffered `access_log ... buffer=64k`, and the bare server
# (`httpserver_hello`), all in one run. Server on CPU 0, `wrk -t1 -c64` on CPU 1; server CPU
# from /proc/PID/stat (utime + stime) before and after each load.
#
# Usage: bench/access_log.sh [duration-seconds] [rounds]   (results: bench/out/access-log-*.md)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-5}
ROUNDS=${2:-3}
command -v wrk >/dev/null && command -v nginx >/dev/null || apt-get install -y wrk nginx
cargo build --release -p typhoon-examples --example helloworld --example httpserver_hello
target=${CARGO_TARGET_DIR:-target}
mkdir -p bench/out
OUT=bench/out/access-log-$(date +%Y%m%d-%H%M%S).md
TICK_US=$((1000000 / $(getconf CLK_TCK)))
scratch=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$scratch"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "port $1 never answered" >&2; return 1; }

nginx_conf() { # port access-log-directive
  cat > "$scratch/nginx-$1.conf" <<NGINX
worker_processes 1;
daemon off;
pid $scratch/nginx-$1.pid;
error_log $scratch/nginx-$1.error.log;
events { worker_connections 4096; }
http {
  $2
  keepalive_requests 1000000000;
  server {
    listen 127.0.0.1:$1;
    location / { default_type text/plain; return 200 "Hello, world"; }
  }
}
NGINX
  echo "$scratch/nginx-$1.conf"
}

declare -A PORT SPID
start() { # name port stderr-file cmd...
  local name=$1 port=$2 err=$3; shift 3
  taskset -c 0 "$@" >/dev/null 2>"$err" &
  PIDS+=($!)
  PORT[$name]=$port
  SPID[$name]=$!
  wait_port "$port"
}
start nginx-off 18931 /dev/null nginx -c "$(nginx_conf 18931 'access_log off;')"
SPID[nginx-off]=$(pgrep -P "${PIDS[-1]}" | head -n1)
start nginx-log 18932 /dev/null nginx -c "$(nginx_conf 18932 "access_log $scratch/nginx-access.log combined buffer=64k flush=1s;")"
SPID[nginx-log]=$(pgrep -P "${PIDS[-1]}" | head -n1)
start httpserver_hello 18933 /dev/null "$target/release/examples/httpserver_hello" --port=18933 --logging=none
start helloworld-off 18934 /dev/null "$target/release/examples/helloworld" --port=18934 --logging=none
start helloworld-file 18935 /dev/null "$target/release/examples/helloworld" --port=18935 --logging=info --log_file_prefix="$scratch/helloworld.log"
start helloworld-stderr 18936 "$scratch/helloworld-stderr.log" "$target/release/examples/helloworld" --port=18936 --logging=info

{
echo "# Access log cost, $(date -u +%Y-%m-%dT%H:%MZ), wrk -t1 -c64, ${DURATION}s, $ROUNDS rounds"
echo
echo "| server | round | req/s | CPU µs/req | user | sys |"
echo "|---|---|---|---|---|---|"
} >"$OUT"
names=(nginx-off nginx-log httpserver_hello helloworld-off helloworld-file helloworld-stderr)
for round in $(seq 1 "$ROUNDS"); do
  for name in "${names[@]}"; do
    pid=${SPID[$name]}
    read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    output=$(taskset -c 1 wrk -t1 -c64 -d"${DURATION}s" "http://127.0.0.1:${PORT[$name]}/")
    read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    requests=$(awk '/requests in/ {print $1}' <<<"$output")
    rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$output")
    python3 -c "
import sys
n=int('$requests'); t=$TICK_US
u=($u1-$u0)*t/n; s=($s1-$s0)*t/n
print(f'| $name | $round | {float(\"$rps\"):,.0f} | {u+s:.2f} | {u:.2f} | {s:.2f} |')" >>"$OUT"
  done
done
python3 - "$OUT" >>"$OUT" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    c = [x.strip() for x in line.strip().strip("|").split("|")]
    if len(c) == 6 and c[1].isdigit():
        rows[c[0]].append(float(c[3]))
print("\nRatios of CPU per request, per round (min-max across rounds):\n")
def ratio(a, b):
    r = [x / y for x, y in zip(rows[a], rows[b])]
    return f"{min(r):.2f}-{max(r):.2f}x"
print(f"- helloworld --logging=info to a file / nginx buffered access_log: {ratio('helloworld-file', 'nginx-log')}")
print(f"- helloworld --logging=info to stderr / nginx buffered access_log: {ratio('helloworld-stderr', 'nginx-log')}")
print(f"- helloworld --logging=none / nginx, access log off: {ratio('helloworld-off', 'nginx-off')}")
print(f"- helloworld --logging=none / httpserver_hello: {ratio('helloworld-off', 'httpserver_hello')}")
print(f"- nginx's log: nginx-log / nginx-off: {ratio('nginx-log', 'nginx-off')}")
print(f"- helloworld's log: file / off: {ratio('helloworld-file', 'helloworld-off')}; stderr / off: {ratio('helloworld-stderr', 'helloworld-off')}")
PY
cat "$OUT"

#!/usr/bin/env bash
# HTTP hello-world benchmark: Typhoon's httpserver_hello against Tornado, nginx (return 200, one
# worker) and hyper 1.x (current_thread; bench/hyper-peer, outside the workspace), in one run.
# Each server is pinned to CPU 0, the load generator to CPU 1. Since wrk saturates near the
# loopback ceiling on 2 cores, the figure that separates servers is server CPU time per request,
# read from /proc/PID/stat (utime + stime) before and after each load.
#
# Usage: bench/http.sh [duration-seconds]   (results: bench/out/http-*.md)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
command -v wrk >/dev/null && command -v ab >/dev/null && command -v nginx >/dev/null \
  || apt-get install -y wrk apache2-utils nginx
python3 -c "import tornado" 2>/dev/null || pip install tornado
cargo build --release --example httpserver_hello
(cd bench/hyper-peer && cargo build --release)
ulimit -n 20000 || true

mkdir -p bench/out
OUT=bench/out/http-$(date +%Y%m%d-%H%M%S).md
TICK_US=$((1000000 / $(getconf CLK_TCK)))
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "port $1 never answered" >&2; return 1; }

NGINX_DIR=$(mktemp -d)
cat > "$NGINX_DIR/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_requests 1000000000;
  server {
    listen 127.0.0.1:18893;
    location / { default_type text/plain; return 200 "Hello, world"; }
  }
}
NGINX

start_server() { # name port cmd...
  local name=$1 port=$2; shift 2
  taskset -c 0 "$@" >"bench/out/$name.log" 2>&1 &
  PIDS+=($!)
  wait_port "$port"
}

# name -> port, and the PID whose CPU counts (nginx: its one worker).
declare -A PORT=([typhoon]=18891 [tornado]=18892 [nginx]=18893 [hyper]=18894)
declare -A SPID
start_server typhoon 18891 target/release/examples/httpserver_hello --port=18891 --logging=none
SPID[typhoon]=${PIDS[-1]}
start_server tornado 18892 python3 bench/tornado_hello.py 18892
SPID[tornado]=${PIDS[-1]}
start_server nginx 18893 nginx -c "$NGINX_DIR/nginx.conf"
SPID[nginx]=$(pgrep -P "${PIDS[-1]}" | head -n1)
start_server hyper 18894 bench/hyper-peer/target/release/hyper-peer 18894
SPID[hyper]=${PIDS[-1]}

{
echo "# HTTP hello world, $(date -u +%Y-%m-%dT%H:%MZ), ${DURATION}s per wrk run"
echo
echo "| server | load | req/s | requests | CPU µs/req total | user | sys |"
echo "|---|---|---|---|---|---|---|"
} >"$OUT"

run_load() { # server label cmd...
  local server=$1 label=$2; shift 2
  local pid=${SPID[$server]}
  read -r u0 s0 < <(cpu_ticks "$pid")
  local output; output=$(taskset -c 1 "$@" 2>&1)
  read -r u1 s1 < <(cpu_ticks "$pid")
  local requests rps
  if [[ $label == ab* ]]; then
    requests=$(awk '/Complete requests:/ {print $3}' <<<"$output")
    rps=$(awk '/Requests per second:/ {print $4}' <<<"$output")
  else
    requests=$(awk '/requests in/ {print $1}' <<<"$output")
    rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$output")
  fi
  python3 - "$server" "$label" "$rps" "$requests" "$((u1 - u0))" "$((s1 - s0))" "$TICK_US" >>"$OUT" <<'PY'
import sys
server, label, rps, requests, du, ds, tick = sys.argv[1:]
requests = int(requests); du, ds, tick = int(du), int(ds), int(tick)
user = du * tick / requests; sys_ = ds * tick / requests
print(f"| {server} | {label} | {float(rps):,.0f} | {requests:,} | {user + sys_:.2f} | {user:.2f} | {sys_:.2f} |")
PY
}

for server in typhoon hyper nginx tornado; do
  port=${PORT[$server]}
  d=$DURATION
  [[ $server == tornado ]] && d=$(( DURATION < 5 ? DURATION : 5 ))
  run_load "$server" "wrk -c64" wrk -t1 -c64 -d"${d}s" "http://127.0.0.1:$port/"
  run_load "$server" "wrk -c256" wrk -t1 -c256 -d"${d}s" "http://127.0.0.1:$port/"
  n=20000; [[ $server == tornado ]] && n=5000
  run_load "$server" "ab -n $n -c 100 (new conn/req)" ab -q -n $n -c 100 "http://127.0.0.1:$port/"
done

{
echo
echo "Idle keep-alive connections (bench/idle_conns.py: N connections, one request each, then held):"
echo
for server in typhoon hyper nginx tornado; do
  n=10000; [[ $server == tornado ]] && n=2000
  echo "- $server: $(python3 bench/idle_conns.py "${PORT[$server]}" "${SPID[$server]}" $n)"
done
} >>"$OUT"

python3 - "$OUT" <<'PY' >>"$OUT"
import re, sys
rows = {}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 7 and cells[0] in {"typhoon", "hyper", "nginx", "tornado"}:
        rows[(cells[0], cells[1])] = (float(cells[2].replace(",", "")), float(cells[4]), float(cells[5]))
print("\nRatios (same run):\n")
for load in sorted({k[1] for k in rows}):
    t = rows.get(("typhoon", load))
    if not t:
        continue
    for peer in ("hyper", "nginx", "tornado"):
        p = rows.get((peer, load))
        if p:
            print(f"- {load}: Typhoon CPU/req = {t[1] / p[1]:.2f}x {peer} (user {t[2] / p[2] if p[2] else float('nan'):.2f}x), req/s = {t[0] / p[0]:.2f}x {peer}")
PY
cat "$OUT"

#!/usr/bin/env bash
# Static files: Typhoon's static_server (StaticFileHandler, sendfile(2)) against nginx (one
# worker, sendfile on) serving the same files, in one run. Servers on CPU 0, wrk on CPU 1; the
# figure that separates them is server CPU time per request (/proc/PID/stat), since on 2 cores
# wrk and loopback bound the request rate.
#
# Usage: bench/static.sh [duration-seconds]   (results: bench/out/static-*.md)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
command -v wrk >/dev/null && command -v nginx >/dev/null || apt-get install -y wrk nginx
cargo build --release --example static_server
mkdir -p bench/out
OUT=bench/out/static-$(date +%Y%m%d-%H%M%S).md
TICK_US=$((1000000 / $(getconf CLK_TCK)))
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }

ROOT=$(mktemp -d)
head -c 4096 /dev/urandom >"$ROOT/small.bin"
head -c $((1024 * 1024)) /dev/urandom >"$ROOT/1m.bin"
chmod 755 "$ROOT"; chmod 644 "$ROOT"/*  # nginx workers run as an unprivileged user
NGINX_DIR=$(mktemp -d)
cat >"$NGINX_DIR/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000000;
  default_type application/octet-stream;
  server { listen 127.0.0.1:18962; root $ROOT; }
}
NGINX

taskset -c 0 target/release/examples/static_server --port=18961 --root="$ROOT" --logging=none >bench/out/static-typhoon.log 2>&1 &
PIDS+=($!); TYPHOON=$!
wait_port 18961
taskset -c 0 nginx -c "$NGINX_DIR/nginx.conf" &
PIDS+=($!)
wait_port 18962
NGINX=$(pgrep -P "${PIDS[-1]}" | head -n1)

cmp <(curl -s http://127.0.0.1:18961/1m.bin) "$ROOT/1m.bin"
cmp <(curl -s http://127.0.0.1:18962/1m.bin) "$ROOT/1m.bin"

{
  echo "# Static files, $(date -u +%Y-%m-%dT%H:%MZ), ${DURATION}s per wrk run (servers on CPU 0, wrk on CPU 1)"
  echo
  echo "| server | file | connections | req/s | MiB/s | server CPU µs/req |"
  echo "|---|---|---|---|---|---|"
} >"$OUT"
for file in small.bin 1m.bin; do
  for c in 16 64; do
    for server in typhoon nginx; do
      port=18961; pid=$TYPHOON
      [[ $server == nginx ]] && { port=18962; pid=$NGINX; }
      read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
      output=$(taskset -c 1 wrk -t1 -c"$c" -d"${DURATION}s" "http://127.0.0.1:$port/$file")
      read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
      requests=$(awk '/requests in/ {print $1}' <<<"$output")
      rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$output")
      mib=$(awk '/Transfer\/sec:/ {v=$2; if (v ~ /GB/) {sub(/GB/,"",v); v*=1024} else if (v ~ /MB/) {sub(/MB/,"",v)} else if (v ~ /KB/) {sub(/KB/,"",v); v/=1024}; print v}' <<<"$output")
      cpu=$(python3 -c "print(f'{(($u1 - $u0) + ($s1 - $s0)) * $TICK_US / $requests:.1f}')")
      echo "| $server | $file | $c | $rps | $mib | $cpu |" >>"$OUT"
    done
  done
done
cat "$OUT"

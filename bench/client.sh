#!/usr/bin/env bash
# HTTP client throughput against nginx (one worker, `return 200`, keep-alive): Typhoon's
# AsyncHTTPClient (examples/fetch_bench) beside hyper's pooled client (bench/hyper-peer's
# hyper-client, outside the workspace) and Tornado's AsyncHTTPClient, in one run. nginx is pinned
# to CPU 0, each client to CPU 1.
# Usage: bench/client.sh [requests]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
command -v nginx >/dev/null || apt-get install -y nginx
python3 -c "import tornado" 2>/dev/null || pip install tornado
cargo build --release --example fetch_bench
(cd bench/hyper-peer && cargo build --release)
DIR=$(mktemp -d)
cat > "$DIR/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $DIR/nginx.pid;
error_log $DIR/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000000;
  server {
    listen 127.0.0.1:18896;
    location / { default_type text/plain; return 200 "Hello, world"; }
  }
}
NGINX
taskset -c 0 nginx -c "$DIR/nginx.conf" &
NGINX_PID=$!
trap 'kill $NGINX_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:18896/ && break; sleep 0.1; done
URL=http://127.0.0.1:18896/
for c in 1 16; do
  taskset -c 1 target/release/examples/fetch_bench --url=$URL --requests=$N --concurrency=$c --logging=none
  taskset -c 1 bench/hyper-peer/target/release/hyper-client $URL $N $c
  taskset -c 1 python3 bench/tornado_fetch.py $URL $(( N / 4 )) $c
done

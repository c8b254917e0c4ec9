#!/usr/bin/env bash
# The Tornado performance articles' five experiments, reproduced on Typhoon beside Tornado, nginx and hyper
# (bench/hyper-peer) in one run, on 127.0.0.1 only:
#   1. hello world throughput: ab -n 100000 -c 100 (as in the articles) and wrk, one core each;
#   2. sync vs async sleep: ab -n 200 -c 40 on A /sync-sleep, B /async-sleep, D /executor-sleep,
#      and the same with a client that opens all 40 connections at once;
#   3. the ordering experiment: C then A, C then B, A then C, B then C (Typhoon and Tornado);
#   4. scaling out: nginx in front of 1 and N instances (Typhoon, then Tornado), plus Typhoon's
#      own n-loop mode without nginx;
#   5. C10K: 10,000 idle keep-alive connections on one loop, then a request on each (RSS).
# Then requests/s against concurrency for all four servers, plotted to bench/articles-concurrency.png.
#
# Servers are pinned to CPU 0 and load generators to CPU 1 where one core each is the point
# (1, 5, the plot); experiment 4 is about using more cores, so nothing is pinned there.
# Every load is bounded in count or time; servers are started and stopped by PID.
#
# Usage: bench/articles.sh [--quick]   (results: bench/out/articles-*.md, bench/articles-concurrency.png)
#   --quick: 40 sync requests instead of 200 in experiment 2, 3 s wrk runs, 2,000 C10K
#   connections; for a check that the script works, not for the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[[ ${1:-} == --quick ]] && QUICK=1
SYNC_N=200; WRK_D=10; C10K_N=10000; AB_N=100000
if ((QUICK)); then SYNC_N=40; WRK_D=3; C10K_N=2000; AB_N=20000; fi
N_INSTANCES=${ARTICLES_INSTANCES:-4}

# ----- what the script needs, installed by itself ------------------------------------------------
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v ab >/dev/null || need_apt+=(apache2-utils)
command -v nginx >/dev/null || need_apt+=(nginx)
command -v curl >/dev/null || need_apt+=(curl)
if ((${#need_apt[@]})); then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi
python3 -c "import tornado" 2>/dev/null || pip install -q tornado
python3 -c "import matplotlib" 2>/dev/null || pip install -q matplotlib
cargo build --release --example helloworld --example sleep --example multi_core
(cd bench/hyper-peer && cargo build --release)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[[ $(ulimit -n) -ge $((C10K_N + 1000)) ]] || { echo "fd limit $(ulimit -n) too low for $C10K_N connections" >&2; exit 1; }

mkdir -p bench/out
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=bench/out/articles-$STAMP.md
CSV=bench/out/articles-concurrency-$STAMP.csv
EX=target/release/examples
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() { # port [path]
  for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$1${2:-/}" && return 0; sleep 0.05; done
  echo "port $1 never answered" >&2; return 1
}
start() { # cpu-list port log cmd... ; sets LAST_PID
  local cpus=$1 port=$2 log=$3; shift 3
  if [[ $cpus == any ]]; then "$@" >"bench/out/$log.log" 2>&1 & else taskset -c "$cpus" "$@" >"bench/out/$log.log" 2>&1 & fi
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  wait_port "$port"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
ab_rps() { awk '/Requests per second:/ {print $4}'; }
wrk_rps() { awk '/Requests\/sec:/ {print $2}'; }
say() { echo "$@" | tee -a "$OUT"; }

nginx_conf() { # dir listen-port body-or-upstream-ports...
  local dir=$1 port=$2; shift 2
  mkdir -p "$dir"
  {
    echo "worker_processes 1; daemon off; pid $dir/nginx.pid; error_log $dir/error.log;"
    echo "events { worker_connections 20000; }"
    echo "http { access_log off; keepalive_requests 1000000000;"
    if [[ $1 == return ]]; then
      echo "  server { listen 127.0.0.1:$port; location / { default_type text/plain; return 200 \"Hello, world\"; } }"
    else
      echo "  upstream backends {"
      for p in "$@"; do echo "    server 127.0.0.1:$p;"; done
      echo "    keepalive 64; }"
      echo "  server { listen 127.0.0.1:$port; location / { proxy_pass http://backends;"
      echo "    proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
    fi
    echo "}"
  } >"$dir/nginx.conf"
}

cat >"$OUT" <<EOF
# The Tornado performance articles' experiments, $(date -u +%Y-%m-%dT%H:%MZ)

Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(uname -sr).
Command: \`bench/articles.sh$( ((QUICK)) && echo ' --quick')\`.

EOF

# ----- 1. hello world throughput -------------------------------------------------------------
say "## 1. Hello world throughput (server on CPU 0, load on CPU 1)"
say ""
say "| server | ab -n $AB_N -c 100 (req/s) | wrk -t1 -c100 ${WRK_D}s (req/s) |"
say "|---|---|---|"
declare -A HELLO_RPS
for server in typhoon tornado; do
  case $server in
    typhoon) start 0 18901 articles-typhoon "$EX/helloworld" --port=18901 --logging=none ;;
    tornado) start 0 18901 articles-tornado python3 bench/tornado_hello.py 18901 ;;
  esac
  pid=$LAST_PID
  abr=$(taskset -c 1 ab -q -n "$AB_N" -c 100 http://127.0.0.1:18901/ | ab_rps)
  wrkr=$(taskset -c 1 wrk -t1 -c100 -d"${WRK_D}s" http://127.0.0.1:18901/ | wrk_rps)
  HELLO_RPS[$server]=$wrkr
  say "| $server | $abr | $wrkr |"
  stop "$pid"
done
say ""
say "Typhoon / Tornado (wrk): $(python3 -c "print(f'{${HELLO_RPS[typhoon]}/${HELLO_RPS[tornado]}:.1f}x')"). The articles: Tornado 1,500-3,353 req/s per instance, 4x the next Python framework. ab opens a connection per request (no -k), as in the articles; wrk keeps connections alive."
say ""

# ----- 2. sync vs async ----------------------------------------------------------------------
say "## 2. Sync vs async: 1 s sleeps, 40 concurrent clients"
say ""
say "| endpoint | client | requests | req/s | time per request, mean (ab's, ms) | latency, mean (ms) |"
say "|---|---|---|---|---|---|"
start 0 18902 articles-sleep "$EX/sleep" --port=18902 --logging=none
pid=$LAST_PID
for endpoint in sync-sleep async-sleep executor-sleep; do
  n=200; [[ $endpoint == sync-sleep ]] && n=$SYNC_N
  ab_out=$(taskset -c 1 ab -n "$n" -c 40 "http://127.0.0.1:18902/$endpoint")
  rps=$(ab_rps <<<"$ab_out")
  tpr=$(awk '/Time per request:.*\(mean\)$/ {print $4}' <<<"$ab_out")
  lat=$(awk '/Time per request:.*across all/ {print $4}' <<<"$ab_out")
  say "| /$endpoint | ab -n $n -c 40 | $n | $rps | $tpr | (ab: $lat across all) |"
  burst=$(taskset -c 1 python3 bench/articles_clients.py burst 18902 "/$endpoint" "$n" 40)
  python3 - "$endpoint" "$n" "$burst" <<'PY' | tee -a "$OUT"
import json, sys
endpoint, n, burst = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
assert burst["errors"] == 0, burst
print(f"| /{endpoint} | all 40 at once | {n} | {burst['req_per_s']} | {burst['time_per_request_ms_ab_style']} | {burst['mean_latency_ms']} |")
PY
done
stop "$pid"
say ""
say "The article (Tornado, ab -n 200 -c 40): sync 1.00 req/s, 40149 ms per request; async 39.35 req/s, 1016.6 ms. Debian's ab 2.3 sends its first request alone and opens the other 39 connections after it completes, one serial second more; the all-at-once client does not."
say ""

# ----- 3. ordering ---------------------------------------------------------------------------
say "## 3. Who waits for whom (two concurrent requests, the second sent 100 ms after the first)"
say ""
say "| server | first, second | finished (s after the first was sent) |"
say "|---|---|---|"
for server in typhoon tornado; do
  case $server in
    typhoon) start 0 18903 articles-order-typhoon "$EX/sleep" --port=18903 --logging=none ;;
    tornado) start 0 18903 articles-order-tornado python3 bench/tornado_sleep.py 18903 ;;
  esac
  pid=$LAST_PID
  for pair in "/now /sync-sleep" "/now /async-sleep" "/sync-sleep /now" "/async-sleep /now"; do
    read -r first second <<<"$pair"
    result=$(python3 bench/articles_clients.py order 18903 "$first" "$second")
    say "| $server | $first, then $second | \`$result\` |"
  done
  stop "$pid"
done
say ""
say "Expected shape: /now sent after /sync-sleep finishes only after it (about 1 s); after /async-sleep it finishes at once (about 0.1 s). Nothing waits for B."
say ""

# ----- 4. scaling out with nginx ---------------------------------------------------------------
say "## 4. Scaling out: nginx in front of 1 and $N_INSTANCES instances ($(nproc) CPUs, nothing pinned)"
say ""
say "| setup | wrk -t1 -c100 ${WRK_D}s (req/s) | ab -k -n 20000 -c 100 (req/s) |"
say "|---|---|---|"
scale_run() { # label port
  local w a
  w=$(wrk -t1 -c100 -d"${WRK_D}s" "http://127.0.0.1:$2/" | wrk_rps)
  a=$(ab -q -k -n 20000 -c 100 "http://127.0.0.1:$2/" | ab_rps)
  say "| $1 | $w | $a |"
}
for server in typhoon tornado; do
  for count in 1 "$N_INSTANCES"; do
    backend_pids=(); ports=()
    for i in $(seq 1 "$count"); do
      port=$((18910 + i))
      case $server in
        typhoon) start any "$port" "articles-scale-$server-$i" "$EX/helloworld" --port="$port" --logging=none ;;
        tornado) start any "$port" "articles-scale-$server-$i" python3 bench/tornado_hello.py "$port" ;;
      esac
      backend_pids+=("$LAST_PID"); ports+=("$port")
    done
    dir=$(mktemp -d)
    nginx_conf "$dir" 18909 "${ports[@]}"
    start any 18909 articles-nginx-proxy nginx -c "$dir/nginx.conf"
    npid=$LAST_PID
    scale_run "nginx + $count $server" 18909
    stop "$npid"
    for p in "${backend_pids[@]}"; do stop "$p"; done
  done
done
start any 18908 articles-multicore "$EX/multi_core" --port=18908 --loops="$(nproc)" --logging=none
pid=$LAST_PID
scale_run "typhoon multi_core --loops=$(nproc), no nginx" 18908
stop "$pid"
start any 18908 articles-single "$EX/helloworld" --port=18908 --logging=none
pid=$LAST_PID
scale_run "typhoon helloworld, 1 loop, no nginx" 18908
stop "$pid"
say ""
say "The article: nginx + 1 Tornado 672.55 req/s, nginx + 4 Tornado 2187.45 req/s (on a machine with more cores than this one)."
say ""

# ----- 5. C10K --------------------------------------------------------------------------------
say "## 5. C10K: $C10K_N idle keep-alive connections, then a request on each (server on CPU 0)"
say ""
say "| server | answered | RSS before | RSS idle | RSS after requests | KiB/conn idle | KiB/conn after | open (s) | serve all (s) |"
say "|---|---|---|---|---|---|---|---|---|"
NGINX_DIR=$(mktemp -d)
nginx_conf "$NGINX_DIR" 18907 return
for server in typhoon tornado nginx; do
  case $server in
    typhoon) start 0 18907 articles-c10k-typhoon "$EX/helloworld" --port=18907 --logging=none; spid=$LAST_PID ;;
    tornado) start 0 18907 articles-c10k-tornado python3 bench/tornado_hello.py 18907; spid=$LAST_PID ;;
    nginx) start 0 18907 articles-c10k-nginx nginx -c "$NGINX_DIR/nginx.conf"; spid=$(pgrep -P "$LAST_PID" | head -n1) ;;
  esac
  pid=$LAST_PID
  result=$(taskset -c 1 python3 bench/articles_clients.py c10k 18907 "$spid" "$C10K_N")
  python3 - "$server" "$result" <<'PY' | tee -a "$OUT"
import json, sys
s, r = sys.argv[1], json.loads(sys.argv[2])
print(f"| {s} | {r['answered_200']}/{r['connections']} | {r['rss_before_kib']} KiB | {r['rss_idle_kib']} KiB | {r['rss_after_requests_kib']} KiB | {r['idle_kib_per_conn']} | {r['after_kib_per_conn']} | {r['open_s']} | {r['serve_all_s']} |")
PY
  stop "$pid"
done
say ""

# ----- requests/s against concurrency, plotted --------------------------------------------------
say "## Requests/s against concurrency (wrk -t1, 3 s per point; server on CPU 0, wrk on CPU 1)"
say ""
echo "server,connections,req_per_s" >"$CSV"
for server in typhoon tornado nginx hyper; do
  case $server in
    typhoon) start 0 18906 articles-curve-typhoon "$EX/helloworld" --port=18906 --logging=none ;;
    tornado) start 0 18906 articles-curve-tornado python3 bench/tornado_hello.py 18906 ;;
    nginx) nginx_conf "$NGINX_DIR" 18906 return; start 0 18906 articles-curve-nginx nginx -c "$NGINX_DIR/nginx.conf" ;;
    hyper) start 0 18906 articles-curve-hyper bench/hyper-peer/target/release/hyper-peer 18906 ;;
  esac
  pid=$LAST_PID
  for c in 1 10 50 100 250 500 1000; do
    rps=$(taskset -c 1 wrk -t1 -c"$c" -d3s http://127.0.0.1:18906/ | wrk_rps)
    echo "$server,$c,$rps" >>"$CSV"
  done
  stop "$pid"
done
python3 - "$CSV" bench/articles-concurrency.png <<'PY' | tee -a "$OUT"
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = list(csv.DictReader(open(sys.argv[1])))
servers = ["typhoon", "hyper", "nginx", "tornado"]
conns = sorted({int(r["connections"]) for r in rows})
table = {(r["server"], int(r["connections"])): float(r["req_per_s"]) for r in rows}
print("| connections | " + " | ".join(servers) + " |")
print("|---|" + "---|" * len(servers))
for c in conns:
    print(f"| {c} | " + " | ".join(f"{table.get((s, c), 0):,.0f}" for s in servers) + " |")
fig, ax = plt.subplots(figsize=(8, 5))
for s in servers:
    ax.plot(conns, [table.get((s, c), 0) for c in conns], marker="o", label=s)
ax.set_xscale("log")
ax.set_xlabel("concurrent connections (wrk -t1)")
ax.set_ylabel("requests/s")
ax.set_title("Hello world, one server core (CPU 0), wrk on CPU 1")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
print(f"\nPlot: {sys.argv[2]}")
PY
echo
echo "Results: $OUT"

#!/usr/bin/env bash
# WebSocket echo throughput and memory, Typhoon against tokio-tungstenite (current_thread) and
# Tornado 6.6, in one run: each server pinned to CPU 0, the load client (bench/ws-load, uWebSockets'
# load_test design on epoll) pinned to CPU 1. Each server passes kosoku's Autobahn groups 1-10
# first (Tornado with its known 7.9.x failures), so none wins by skipping validation.
#
# Usage: bench/websocket.sh [SECONDS]   (default 5 per case)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
command -v kosoku >/dev/null || python3 -m pip install --quiet "kosoku>=0.1,<0.2"
python3 -c "import tornado" 2>/dev/null || python3 -m pip install --quiet "tornado>=6.6,<7"
cargo build --release --example websocket_echo
(cd bench/ws-load && cargo build --release)
(cd bench/ws-tokio-peer && cargo build --release)
load=bench/ws-load/target/release/ws-load

# cpu_of PID: user + system seconds of a process.
cpu_of() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
rss_of() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

start_server() { # name port
  case $1 in
    typhoon) taskset -c 0 target/release/examples/websocket_echo --port="$2" --logging="${LOGGING:-info}" >/dev/null 2>&1 & ;;
    tokio) taskset -c 0 bench/ws-tokio-peer/target/release/ws-tokio-peer "$2" >/dev/null 2>&1 & ;;
    tornado) taskset -c 0 python3 bench/tornado_ws_echo.py "$2" ${3:-} >/dev/null 2>&1 & ;;
  esac
  pid=$!
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && break; sleep 0.1; done
}

printf '%-8s %-7s %-6s %12s %14s\n' server conns size "msg/s" "server µs/msg"
declare -A rate cpu
port=9500
for server in typhoon tokio tornado; do
  port=$((port + 1))
  start_server "$server" "$port"
  reports=$(mktemp -d)
  if ! kosoku -x '12.*' -x '13.*' -p 4 -o "$reports" "127.0.0.1:$port" >/dev/null 2>&1; then
    failed=$(python3 -c "import json,sys; d=json.load(open('$reports/index.json')); print(sorted(k for c in d.values() for k,v in c.items() if v['behavior'] not in ('OK','NON-STRICT','INFORMATIONAL')))")
    echo "$server: Autobahn 1-10 failures: $failed"
  fi
  rm -rf "$reports"
  for conns in 1 100; do
    for size in 20 1024 16384; do
      before=$(cpu_of "$pid")
      out=$(taskset -c 1 "$load" "$port" "$conns" "$size" "$secs")
      after=$(cpu_of "$pid")
      msgs=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' <<<"$out")
      r=$(sed -n 's/.*msg_per_sec=\([0-9]*\).*/\1/p' <<<"$out")
      # Server CPU over the whole run (warm-up included) per message of the measured window:
      # an upper bound, the same for every server.
      us=$(python3 -c "print(f'{($after - $before) * 1e6 / max($msgs, 1) * $secs / ($secs + 1):.2f}')")
      rate[$server,$conns,$size]=$r; cpu[$server,$conns,$size]=$us
      printf '%-8s %-7s %-6s %12s %14s\n' "$server" "$conns" "$size" "$r" "$us"
    done
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

echo
echo "ratios (msg/s; server CPU per message, lower is better):"
for conns in 1 100; do
  for size in 20 1024 16384; do
    python3 -c "
t,k,o=${rate[typhoon,$conns,$size]},${rate[tokio,$conns,$size]},${rate[tornado,$conns,$size]}
ct,ck,co=${cpu[typhoon,$conns,$size]},${cpu[tokio,$conns,$size]},${cpu[tornado,$conns,$size]}
print(f'$conns conns x $size B: Typhoon/tokio-tungstenite {t/k:.2f}x msg/s, {ck/ct:.2f}x per CPU; Typhoon/Tornado {t/o:.2f}x msg/s, {co/ct:.2f}x per CPU')"
  done
done

echo
echo "broadcast of a 64-byte message (websocket_echo's rooms; server CPU per delivery from /proc):"
port=$((port + 1))
start_server typhoon "$port"
printf '%-6s %-8s %-9s %14s %9s %9s %16s\n' conns deflate how "deliveries/s" "p50 ms" "p99 ms" "server µs/deliv"
declare -A bps bcpu
for conns in 1000 10000; do
  rounds=$((conns == 1000 ? 200 : 40))
  for mode in broadcast broadcast-deflate; do
    for how in naive spawn prepared; do
      out=$(SERVER_PID=$pid taskset -c 1 "$load" "$port" "$conns" "$mode" "$rounds" "/broadcast/$how")
      r=$(sed -n 's/.*deliveries_per_sec=\([0-9]*\).*/\1/p' <<<"$out")
      p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")
      p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
      us=$(sed -n 's/.*server_us_per_delivery=\([0-9.]*\).*/\1/p' <<<"$out")
      bps[$conns,$mode,$how]=$r; bcpu[$conns,$mode,$how]=$us
      printf '%-6s %-8s %-9s %14s %9s %9s %16s\n' "$conns" "$([ $mode = broadcast ] && echo no || echo yes)" "$how" "$r" "$p50" "$p99" "$us"
    done
    python3 -c "
p,n,s=${bps[$conns,$mode,prepared]},${bps[$conns,$mode,naive]},${bps[$conns,$mode,spawn]}
cp,cn,cs=${bcpu[$conns,$mode,prepared]},${bcpu[$conns,$mode,naive]},${bcpu[$conns,$mode,spawn]}
print(f'  $conns sockets, $mode: prepared/naive {p/n:.2f}x deliveries/s, {cn/cp:.2f}x per CPU; prepared/spawn {p/s:.2f}x deliveries/s, {cs/cp:.2f}x per CPU')"
  done
done
kill "$pid"; wait "$pid" 2>/dev/null || true

echo
echo "RSS per idle connection (2000 connections, one 65-byte message each, then idle):"
for mode in idle idle-deflate; do
  for server in typhoon tokio tornado; do
    [ "$server/$mode" = tokio/idle-deflate ] && continue  # tungstenite has no permessage-deflate
    port=$((port + 1))
    start_server "$server" "$port" "$([ "$mode" = idle-deflate ] && echo deflate)"
    sleep 0.5
    base=$(rss_of "$pid")
    fifo=$(mktemp -u); mkfifo "$fifo"
    taskset -c 1 "$load" "$port" 2000 "$mode" 0 <"$fifo" >"$fifo.out" &
    client=$!
    exec 4>"$fifo"
    for _ in $(seq 1 300); do grep -q open= "$fifo.out" 2>/dev/null && break; sleep 0.1; done
    sleep 1
    now=$(rss_of "$pid")
    exec 4>&-
    wait "$client" 2>/dev/null || true
    rm -f "$fifo" "$fifo.out"
    python3 -c "print(f'$server $mode: {($now - $base) / 2000:.1f} KiB per connection (RSS {$base} -> {$now} KiB)')"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done

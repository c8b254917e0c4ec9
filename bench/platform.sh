#!/usr/bin/env bash
# The cost of a call through typhoon-platform's tokio bridge (a Typhoon loop awaiting a trivial
# future on the bridge's one-worker tokio runtime), at 1 and 64 calls in flight, against the
# same calls made directly on that tokio runtime (tokio::spawn(..).await from one of its tasks).
# Run twice: both threads on one CPU (a wake is a context switch), and on two CPUs (a wake is a
# cross-CPU wake-up of an idle vCPU).
#
# Usage: bench/platform.sh [CALLS]   (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-200000}
(cd bench/platform-bridge && cargo build --release)
bin=bench/platform-bridge/target/release/platform-bridge
for cpus in 0 0,1; do
  echo "taskset -c $cpus:"
  taskset -c "$cpus" "$bin" "$calls" | while read -r line; do
    echo "  $line"
    python3 - "$line" <<'PY'
import sys
kv = dict(part.split("=") for part in sys.argv[1].split())
ratio = float(kv["bridge_us_per_call"]) / float(kv["tokio_us_per_call"])
print(f"  -> {kv['in_flight']} in flight: a bridged call costs {kv['bridge_us_per_call']} us, {ratio:.1f}x the direct tokio call")
PY
  done
done

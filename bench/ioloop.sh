#!/usr/bin/env bash
# The ioloop benchmark: Typhoon's IOLoop and tokio's current_thread runtime on the same workloads,
# in the same run, then the ratio table. Single-threaded workloads run pinned to one core; the
# cross-thread workload gets two (its sender thread needs the second core).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p typhoon-ioloop --bench ioloop --no-run
taskset -c 1 cargo bench -p typhoon-ioloop --bench ioloop -- 'callbacks|tasks|timers|ping_pong'
taskset -c 0,1 cargo bench -p typhoon-ioloop --bench ioloop -- 'cross_thread'
python3 bench/ioloop_ratios.py target/criterion

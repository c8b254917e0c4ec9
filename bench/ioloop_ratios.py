#!/usr/bin/env python3
"""Print Typhoon-vs-tokio ratios from criterion's estimates of the `ioloop` bench.

Reads target/criterion/<workload>/{typhoon,tokio}/new/estimates.json (written by
`cargo bench -p typhoon-ioloop --bench ioloop`) and prints a Markdown table. The ratio is
tokio's time divided by Typhoon's: above 1.0 means Typhoon is faster.
"""
import json
import pathlib
import sys

WORK = {
    "callbacks": ("10,000 callbacks", 10_000),
    "tasks": ("10,000 tasks spawned + awaited", 10_000),
    "timers_fire": ("10,000 sleeps registered + fired", 10_000),
    "timers_cancel": ("10,000 sleeps registered + cancelled", 10_000),
    "cross_thread": ("10,000 cross-thread callbacks", 10_000),
    "ping_pong": ("1,000 socket-pair round trips", 1_000),
}


def median_ns(root, group, name):
    path = root / group / name / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    print("| workload | Typhoon | tokio current_thread | Typhoon ops/s | ratio (tokio time / Typhoon time) |")
    print("|---|---|---|---|---|")
    worst = None
    for group, (label, ops) in WORK.items():
        try:
            ours = median_ns(root, group, "typhoon")
            peer = median_ns(root, group, "tokio")
        except FileNotFoundError:
            continue
        ratio = peer / ours
        worst = ratio if worst is None else min(worst, ratio)
        print(f"| {label} | {ours / 1e3:.0f} µs | {peer / 1e3:.0f} µs | {ops / (ours / 1e9):,.0f} | {ratio:.2f}x |")
    if worst is not None:
        print(f"\nLowest ratio: {worst:.2f}x")


if __name__ == "__main__":
    main()

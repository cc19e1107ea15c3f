#!/usr/bin/env python3
"""The hardware a city-wide audience would need, on paper, from the figures ``scripts/bench --only workers`` measured.

    python scripts/bench_capacity.py [bench-results/latest.json] [--viewers 50000] [--orders 50] [--busy 0.5]

It reads the medians of the run's repeats (nothing here is a measured figure of
its own) and prints each step of the arithmetic of docs/deploy.md's
*Capacity* section:

- **fan-out**: every viewer gets at most one ``live`` message per publisher
  interval (the app's ``live_interval_ms``), whatever the order rate; its
  CPU is viewers × broadcasts a second × the app's fan-out CPU per
  recipient (the ``fan-out app`` floor line);
- **idle screens**: what connected boards cost the workers with no orders
  (Engine.IO's pings): the 1-worker column's idle server cores ÷ its boards;
- **orders**: ORDERS a second × the 1-worker column's server CPU per order
  (at its highest rate; it includes that run's fan-out to its own boards, so
  it is an upper bound);
- **a worker more**: the 2-worker column's server cores minus the
  1-worker column's, at the same rate (a publisher more, reading the log;
  its Redis nudges and subscription);
- **PostgreSQL and Redis**: ORDERS × their CPU per order, plus a worker
  more's PostgreSQL cores, likewise;
- **memory**: viewers × memory per idle board.

Workers are sized so that each is busy at most BUSY of its core (a design
margin, chosen, not measured): a worker is one Python process and one core.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fair.settings import Settings  # noqa: E402


def medians(path: Path) -> tuple[dict, dict, dict]:
    """The bench's arguments, the medians of every column's figures and of the floors."""
    data = json.loads(path.read_text())
    runs = [run["workers"] for run in data["runs"] if "workers" in run]
    if not runs:
        raise SystemExit(f"{path} holds no workers part: run scripts/bench --only workers first")
    out: dict[str, dict[str, float]] = {}
    for column in runs[0]:
        out[column] = {}
        for name in runs[0][column]:
            values = [run[column][name] for run in runs if run[column][name] is not None]
            if values and not isinstance(values[0], bool):
                out[column][name] = statistics.median(values)
    floors = out.pop("floors")
    return data["args"], out, floors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="?", type=Path, default=ROOT / "bench-results" / "latest.json")
    parser.add_argument("--viewers", type=int, default=50_000)
    parser.add_argument("--orders", type=float, default=50.0, help="orders a second the hall confirms at its peak")
    parser.add_argument("--busy", type=float, default=0.5, help="the share of its core a worker may be busy")
    args = parser.parse_args()
    bench, columns, floors = medians(args.results)
    interval_ms = bench.get("interval_ms") or Settings().live_interval_ms
    rate = max(float(re.search(r"([\d.]+)/s", c).group(1)) for c in columns if c.startswith("1w"))
    one = columns[next(c for c in columns if c.startswith("1w") and c.endswith(f" {rate:g}/s"))]
    two = columns.get(next((c for c in columns if c.startswith("2w") and c.endswith(f" {rate:g}/s")), ""), None)
    boards = bench["listeners"]
    v, r = args.viewers, args.orders

    def line(what: str, arithmetic: str, value: float, unit: str) -> float:
        shown = f"{value:10,.0f}" if unit in ("workers", "screens") else f"{value:10.2f}"
        print(f"{what:34} {arithmetic:64} = {shown} {unit}")
        return value

    print(f"# from {args.results} (medians of {bench['repeats']} repeats; {boards} boards; workers at {rate:g}/s)")
    print(f"# {v:,} viewers, {r:g} orders/s at the peak, each worker at most {args.busy:.0%} busy\n")
    f = floors["fan-out app (fair.live.fanout) us/recipient"]
    broadcasts = 1000 / interval_ms
    fanout = line("fan-out, cores", f"{v:,} × {broadcasts:.2f}/s × {f:.2f} µs", v * broadcasts * f / 1e6, "cores")
    idle_per_board = one["idle cores: servers"] / boards
    idle = line(
        "idle screens, cores",
        f"{v:,} × {one['idle cores: servers']:.4f} cores / {boards} boards",
        v * idle_per_board,
        "cores",
    )
    per_order = one["CPU/order ms: servers"]
    orders = line("orders, cores", f"{r:g}/s × {per_order:.2f} ms", r * per_order / 1000, "cores")
    extra = max(0.0, two["cores: servers"] - one["cores: servers"]) if two else 0.0
    if two:
        line(
            "a worker more, cores",
            f"max(0, {two['cores: servers']:.3f} − {one['cores: servers']:.3f}) (2w − 1w at {rate:g}/s)",
            extra,
            "cores",
        )
    base = fanout + idle + orders
    workers = 1
    while base + (workers - 1) * extra > workers * args.busy:
        workers += 1
    worker_cores = line(
        "workers",
        f"least W with {base:.2f} + (W − 1) × {extra:.3f} ≤ W × {args.busy:g}",
        workers,
        "workers",
    )
    per_worker = v / workers
    line("one broadcast, per worker", f"{per_worker:,.0f} screens × {f:.2f} µs", per_worker * f / 1000, "ms")
    pg_extra = max(0.0, two["cores: PostgreSQL"] - one["cores: PostgreSQL"]) if two else 0.0
    postgres = line(
        "PostgreSQL, cores",
        f"{r:g} × {one['CPU/order ms: PostgreSQL']:.2f} ms + {workers} × {pg_extra:.3f}",
        r * one["CPU/order ms: PostgreSQL"] / 1000 + workers * pg_extra,
        "cores",
    )
    redis = line(
        "Redis, cores",
        f"{r:g} × {one['CPU/order ms: Redis']:.2f} ms",
        r * one["CPU/order ms: Redis"] / 1000,
        "cores",
    )
    line(
        "all, cores",
        f"{worker_cores:g} workers + {postgres:.2f} + {redis:.2f}",
        worker_cores + postgres + redis,
        "cores",
    )
    kb = one["memory per idle board KB"]
    line("memory of the screens", f"{v:,} × {kb:.1f} KB", v * kb / 1024**2, "GB")
    line("screens per worker", f"{v:,} / {workers}", math.ceil(per_worker), "screens")


if __name__ == "__main__":
    main()

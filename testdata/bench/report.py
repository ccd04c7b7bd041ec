#!/usr/bin/env python3
"""Turn `go test -bench` output into the incus-fleet benchmark table.

Every figure is a ratio against a baseline measured in the same run on the
same machine, so the table says how incus-fleet compares, not how fast this
particular machine was. Usage: report.py bench.txt > results.md
"""
import platform
import re
import sys
import time

LINE = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(.*)$")


FACT = re.compile(r"^fact (\S+) (\d+)$")


def parse(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        f = FACT.match(line.strip())
        if f:
            out["fact:" + f.group(1)] = {"ns": float(f.group(2))}
            continue
        m = LINE.match(line.strip())
        if not m:
            continue
        name, ns, rest = m.group(1), float(m.group(3)), m.group(4)
        metrics = {"ns": ns}
        for value, unit in re.findall(r"([\d.]+) (\S+)", rest):
            metrics[unit] = float(value)
        out[name] = metrics
    return out


def sec(ns):
    return f"{ns / 1e9:.2f} s" if ns >= 1e8 else f"{ns / 1e6:.1f} ms"


def main():
    b = parse(sys.argv[1])
    need = ["BenchmarkDeploy10x3", "BenchmarkNoopReapply", "BenchmarkRollingUpdate3",
            "BenchmarkBaselineRollingWork3", "BenchmarkBaselineCLI10x3"]
    missing = [n for n in need if n not in b]
    if missing:
        sys.exit(f"report.py: missing benchmarks {missing}: did the run fail?")
    baselines = {k: v["ns"] for k, v in b.items() if k.startswith("BenchmarkBaselineClient10x3/")}
    workers = int(b["BenchmarkDeploy10x3"].get("workers", 4))
    same = f"BenchmarkBaselineClient10x3/p{workers}"
    if same not in baselines:
        sys.exit(f"report.py: no baseline at incus-fleet's concurrency ({same})")
    base = baselines[same]
    best_name, best = min(baselines.items(), key=lambda kv: kv[1])
    deploy = b["BenchmarkDeploy10x3"]["ns"]
    cli = b["BenchmarkBaselineCLI10x3"]["ns"]
    noop = b["BenchmarkNoopReapply"]
    roll = b["BenchmarkRollingUpdate3"]["ns"]
    roll_base = b["BenchmarkBaselineRollingWork3"]["ns"]
    health_waits = 3 * 1e6  # three 1 ms monitor windows
    rows = [
        ("deploy 10 services × 3 replicas (whole process)", sec(deploy),
         f"raw REST create+start, same {workers} workers: {sec(base)}", f"{deploy / base:.2f}×", "≤ 1.10×"),
        ("  same, vs the baseline's best parallelism", sec(deploy),
         f"{best_name.split('/')[-1]}: {sec(best)} (" + ", ".join(f"{k.split('/')[-1]} {sec(v)}" for k, v in sorted(baselines.items())) + ")",
         f"{deploy / best:.2f}×", ""),
        ("  same, vs sequential `incus launch --target`", sec(deploy), f"{sec(cli)}", f"{deploy / cli:.2f}×", ""),
        ("no-op re-apply of that stack (whole process)", sec(noop["ns"]), f"{int(noop.get('requests/op', 0))} Incus API requests",
         "constant", "≤ 0.10 s"),
        ("rolling update, 3 replicas, parallelism 1 (minus health waits)", sec(roll - health_waits),
         f"raw stop/delete/create/start work: {sec(roll_base)}", f"{(roll - health_waits) / roll_base:.2f}×", ""),
    ]
    for members, replicas in [(100, 1000), (100, 10000), (1000, 1000), (1000, 10000), (1000, 20000)]:
        name = f"BenchmarkPlan{members}x{replicas}"
        if name in b:
            m = b[name]
            rows.append((f"offline plan, {members} members × {replicas} replicas", sec(m["ns"]),
                         f"{m.get('B/op', 0) / 1e6:.1f} MB, {int(m.get('allocs/op', 0))} allocs", "", ""))
    for small, big in [("BenchmarkPlan1000x10000", "BenchmarkPlan1000x20000"), ("BenchmarkPlan100x1000", "BenchmarkPlan100x10000")]:
        if small in b and big in b:
            factor = int(re.findall(r"x(\d+)$", big)[0]) // int(re.findall(r"x(\d+)$", small)[0])
            rows.append((f"  growth for {factor}× the replicas", "", "", f"{b[big]['ns'] / b[small]['ns']:.2f}×", f"~{factor}× (linear)"))
    for name, label, goal in [("BenchmarkVersion", "binary start (`incus-fleet version`)", "≤ 10 ms"),
                              ("BenchmarkInvalidCall", "`call` of an invalid request", "")]:
        if name in b:
            rows.append((label, sec(b[name]["ns"]), "", "", goal))
    if "fact:binary_bytes" in b:
        size = b["fact:binary_bytes"]["ns"]
        rows.append(("binary size (`make build`)", f"{size / 1048576:.1f} MiB", "", "", "≤ 14 MiB"))
    if "fact:modules" in b:
        rows.append(("modules in `go list -m all`", f"{int(b['fact:modules']['ns'])}", "no github.com/lxc/incus", "", "≤ 45"))
    print(f"Measured {time.strftime('%Y-%m-%d')} on {platform.node()}: {platform.machine()}, "
          f"{open('/proc/cpuinfo').read().count('processor')} cores, 3-member loopback Incus cluster (one host).\n")
    print("| figure | incus-fleet | baseline (same run) | ratio | goal |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()

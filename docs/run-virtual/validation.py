"""Prints the ratios of docs/results.md's validation and self-consistency tables from the JSON measure.sh wrote.

Usage: python3 docs/run-virtual/validation.py [DIR]   (default docs/run-virtual)
"""
import json
import sys
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/run-virtual")


def rate(name, strategy, cores, op):
    runs = json.loads((out / f"{name}.json").read_text())["runs"]
    for run in runs:
        if run["strategy"] == strategy and run["cores"] == cores:
            return run["ops"][op]["perSecond"]
    raise KeyError(f"{name}: no run of {strategy} on {cores} cores")


def ratio(name, a, b, cores, op):
    return rate(name, a, cores, op) / rate(name, b, cores, op)


fault = "workers/fault"
for cores in (4, 21, 48, 56, 128):
    print(f"pft @{cores}: pervma/rwsem {ratio('pft', 'pervma', 'rwsem', cores, fault):.3f}, "
          f"pervma refcount/rwsem form {ratio('pft', 'pervma', 'pervma:lock=rwsem', cores, fault):.3f}, "
          f"speculative/rwsem {ratio('pft', 'speculative', 'rwsem', cores, fault):.2f}, "
          f"vmaRefcount loss {1 - ratio('pft', 'speculative:vmaRefcount=true', 'speculative', cores, fault):.1%}")
for cores in (1, 4, 16):
    print(f"slow-file-fault @{cores}: mapper/iteration rwsem / rwsem:faultRetry=false "
          f"{ratio('slow-file-fault', 'rwsem', 'rwsem:faultRetry=false', cores, 'mapper/iteration'):.0f}x "
          f"({rate('slow-file-fault', 'rwsem', cores, 'mapper/iteration'):,.0f}/s vs "
          f"{rate('slow-file-fault', 'rwsem:faultRetry=false', cores, 'mapper/iteration'):,.0f}/s)")
for strategy in ("rwsem", "rangelock", "rangelock:impl=list", "pervma", "speculative"):
    rates = [rate("mmap1", strategy, c, "workers/iteration") for c in (1, 2, 4, 8, 16, 32, 64)]
    print(f"mmap1 {strategy}: iterations/s at 1..64 cores {[round(r / 1000) for r in rates]} k; "
          f"64 vs 1: {rates[-1] / rates[0]:.2f}x")
for strategy in ("rwsem", "rangelock", "speculative", "pervma"):
    print(f"fault-vs-mmap {strategy}: faulters/fault 64 vs 1 cores "
          f"{rate('fault-vs-mmap', strategy, 64, 'faulters/fault') / rate('fault-vs-mmap', strategy, 1, 'faulters/fault'):.1f}x")

print("self-consistency (model profile): virtual ops/s at N cores / wall ops/s with N threads")
for scenario in ("page-fault1", "mmap1", "fault-vs-mmap"):
    virtual = json.loads((out / f"{scenario}-virtual.json").read_text())["runs"]
    for n in (1, 2):
        wall = json.loads((out / f"{scenario}-wall-{n}.json").read_text())["runs"]
        for strategy in ("rwsem", "pervma"):
            v = next(r for r in virtual if r["strategy"] == strategy and r["cores"] == n)
            w = next(r for r in wall if r["strategy"] == strategy)
            for op, stats in v["ops"].items():
                print(f"  {scenario} {op} {strategy} @{n}: virtual {stats['perSecond']:,.0f}/s, "
                      f"wall {w['ops'][op]['perSecond']:,.0f}/s, ratio {stats['perSecond'] / w['ops'][op]['perSecond']:.2f}")

#!/usr/bin/env bash
# Re-runs every virtual-time measurement in docs/results.md ("Virtual time"). Usage:
#   bash docs/run-virtual/measure.sh [OUTDIR]   (default docs/run-virtual)
# Needs bench/target/mmlab.jar (mvn -B -DskipTests package). Every figure except the wall times is virtual and
# deterministic: the same jar, seed and profile give the same JSON on any machine.
set -euo pipefail
OUT=${1:-docs/run-virtual}
JAR=${MMLAB_JAR:-bench/target/mmlab.jar}
mkdir -p "$OUT"
mmlab() { java -jar "$JAR" "$@"; }
virtual() { local name=$1; shift; mmlab compare --clock virtual "$@" --json "$OUT/$name.json" > "$OUT/$name.txt"; }

# Validation against published figures, linux-x86 profile.
virtual pft --scenario pft --cores 1,4,21,48,56,128 --duration 0.002 \
    --strategy rwsem --strategy pervma --strategy pervma:lock=rwsem \
    --strategy speculative --strategy speculative:validation=mm --strategy speculative:vmaRefcount=true
virtual slow-file-fault --scenario slow-file-fault --cores 1,4,16 --duration 0.1 \
    --strategy all --strategy rwsem:faultRetry=false
virtual mmap1 --scenario mmap1 --cores 1,2,4,8,16,32,64 --duration 0.002 \
    --strategy rwsem --strategy rangelock --strategy rangelock:impl=list --strategy pervma --strategy speculative
virtual fault-vs-mmap --scenario fault-vs-mmap --cores 1,4,16,64 --duration 0.002 --strategy all \
    --html "$OUT/fault-vs-mmap.html"

# Determinism: the same command in two JVMs; the JSON differs only in the machine field.
for i in 1 2; do
    virtual "determinism-$i" --scenario fault-vs-mmap --cores 4,16 --duration 0.001 --strategy all
done
python3 - "$OUT/determinism-1.json" "$OUT/determinism-2.json" > "$OUT/determinism.txt" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for d in (a, b):
    d.pop("machine", None)
print("identical apart from machine fields" if a == b else "DIFFERENT")
PY
cmp -s "$OUT/determinism-1.json" "$OUT/determinism-2.json" && echo "byte-identical (same machine)" >> "$OUT/determinism.txt"

# Self-consistency: a profile of the model's own costs in this JVM, then virtual at 1 and 2 cores against the wall
# clock with 1 and 2 threads (JIT warm-up 6 s: the engine must be compiled before the wall clock measures it).
mmlab calibrate --source model --out "$OUT/model.profile" > "$OUT/model-profile.txt"
uptime > "$OUT/self-consistency-uptime-before.txt"
for s in page-fault1 mmap1 fault-vs-mmap; do
    virtual "$s-virtual" --scenario "$s" --cores 1,2 --profile "$OUT/model.profile" --duration 0.05 \
        --strategy rwsem --strategy pervma
    for n in 1 2; do
        mmlab compare --scenario "$s" --threads "$n" --duration 3 --jit-warmup 6 --warmup 2 \
            --strategy rwsem --strategy pervma --json "$OUT/$s-wall-$n.json" > "$OUT/$s-wall-$n.txt"
    done
done
uptime > "$OUT/self-consistency-uptime-after.txt"

# Speed: the default sweep (cores 1..256, 0.01 virtual s) of one scenario under the four strategies, timed.
uptime > "$OUT/speed-uptime-before.txt"
start=$(date +%s.%N)
virtual page-fault1-sweep --scenario page-fault1 --strategy rwsem --strategy rangelock --strategy speculative --strategy pervma
end=$(date +%s.%N)
uptime > "$OUT/speed-uptime-after.txt"
python3 docs/run-virtual/validation.py "$OUT" > "$OUT/validation.txt"
python3 - "$OUT/page-fault1-sweep.json" "$start" "$end" > "$OUT/speed.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
ops = sum(o["count"] for r in d["runs"] for o in r["ops"].values())
print(f"{ops} simulated operations in {wall:.1f} s of wall time (JVM start included): {ops / wall:,.0f} operations per second")
PY

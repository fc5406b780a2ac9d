#!/usr/bin/env bash
# Re-runs every measurement in docs/results.md. Usage: bash docs/measure.sh [OUTDIR]  (default docs/run)
# Needs: mvn -B -DskipTests package (bench/target/mmlab.jar with the strategy modules inside).
set -euo pipefail
OUT=${1:-docs/run}
JAR=bench/target/mmlab.jar
mkdir -p "$OUT"
uptime > "$OUT/uptime-before.txt"
run() { local name=$1; shift; java -jar "$JAR" compare "$@" --json "$OUT/$name.json" > "$OUT/$name.txt"; }
run slow-file-fault --scenario slow-file-fault --duration 5 --strategy all --strategy rwsem:faultRetry=false --charts "$OUT/charts"
run proc-scan       --scenario proc-scan --duration 5 --strategy all
run fault-vs-mmap-1 --scenario fault-vs-mmap --duration 3 --threads 1 --strategy all --strategy unsafe-nolock
run fault-vs-mmap-2 --scenario fault-vs-mmap --duration 3 --threads 2 --strategy all --strategy unsafe-nolock
run fault-vs-mmap-adjacent --scenario fault-vs-mmap --duration 3 --set adjacent=true --strategy all
run page-fault1-1   --scenario page-fault1 --duration 3 --threads 1 --strategy all --strategy unsafe-nolock
run page-fault1-2   --scenario page-fault1 --duration 3 --threads 2 --strategy all --strategy unsafe-nolock
run fork-storm     --scenario fork-storm --duration 5 --strategy all
# The cost of pervma's fork-time VMA locking (the 6.4 fix): 10,000 VMAs, children that exit at once, nothing
# else running; twice, in both orders, so drift on a shared machine shows as a disagreement between the runs.
run fork-locking-a  --scenario fork-storm --duration 10 --set vmas=10000 --set faulters=0 --set childTouch=0 \
    --strategy pervma --strategy pervma:forkVmaLocking=false --strategy rwsem
run fork-locking-b  --scenario fork-storm --duration 10 --set vmas=10000 --set faulters=0 --set childTouch=0 \
    --strategy rwsem --strategy pervma:forkVmaLocking=false --strategy pervma
java -jar "$JAR" jmh 'FaultBenchmark.anonFault' -p vmas=10,1000,100000 -f 1 -wi 2 -w 1 -i 3 -r 1 \
    -rf json -rff "$OUT/jmh-anon-fault.json" > "$OUT/jmh-anon-fault.txt"
uptime > "$OUT/uptime-after.txt"

#!/bin/bash
# On the GPU machine, in a copy of the repository: joins bundle.sh's parts, checks them against
# its SHA-256, unpacks them into /tmp/gpu (again only for other parts), runs CudaEngineTest under
# JUnit's console launcher, then, when the tests passed, JMH with $JMH's arguments if it is set
# (JMH='BatchRunnerBenchmark -p provider=cuda'), and `bench --set inference.provider=cuda` with
# run.sh's arguments if it has any. cuDNN 9 and libcurand.so.10 are the machine's. At most 2 + 5 +
# 7 minutes (one call runs at most 10: JMH or bench, not both); a step that runs out exits 3, not
# timeout's 124.
# Usage: PARTS=DIR OUT=DIR [JMH=ARGS] bash run.sh [BENCH ARGUMENTS...]   (OUT gets the reports, JMH's
# output, the bench's JSON and table)
set -u
g=/tmp/gpu
PARTS=$(cd "$PARTS" && pwd) || exit 9
sum=$(cut -d' ' -f1 "$PARTS/gpu.tar.xz.sha256")
if [ "$(cat $g/.sha256 2>/dev/null)" != "$sum" ]; then
  rm -rf $g
  cat "$PARTS"/gpu.tar.xz.part* > /tmp/gpu.tar.xz || exit 9
  (cd /tmp && sha256sum -c "$PARTS/gpu.tar.xz.sha256") || exit 9
  xz -T0 -dc /tmp/gpu.tar.xz | tar -x -C /tmp || exit 9
  rm /tmp/gpu.tar.xz
  echo "$sum" > $g/.sha256
fi
export LD_LIBRARY_PATH=$g/cuda12:$g/syslib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export JAVA_TOOL_OPTIONS="-Donnxruntime.native.path=$g/ort -Djava.awt.headless=true"
java=$g/jre/bin/java
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; $java -version; nproc; } \
  > "$OUT/machine.txt" 2>&1
classpath="$g/test-classes:$g/gapstream.jar:$(ls $g/lib/*.jar $g/junit/assertj-core-*.jar | paste -sd:)"
timeout 120 $java -jar $g/junit/junit-platform-console-standalone-*.jar execute \
  --class-path "$classpath" --select-class dev.gapstream.inference.CudaEngineTest --fail-if-no-tests \
  --reports-dir "$OUT/junit" --details tree > "$OUT/cuda-tests.txt" 2>&1
rc=$?
[ $rc = 124 ] && rc=3
echo "CudaEngineTest: exit $rc"
grep -v -E '^\s+(at )?[a-z][A-Za-z0-9_.$]*\(.*\)$' "$OUT/cuda-tests.txt" | tail -45
[ $rc = 0 ] || exit $rc
if [ -n "${JMH:-}" ]; then
  # -foe: a benchmark whose setup fails (a CUDA provider that does not start) fails the run.
  # shellcheck disable=SC2086 # JMH's arguments, split as given
  timeout 300 $java -Dgapstream.home="$PWD" -cp "$classpath:$(ls $g/jmh/*.jar | paste -sd:)" \
    org.openjdk.jmh.Main -foe true $JMH > "$OUT/jmh.txt" 2>&1
  rc=$?
  [ $rc = 124 ] && rc=3
  echo "JMH: exit $rc"
  grep "^worker's" "$OUT/jmh.txt" # BatchRunnerBenchmark's split of a batch: tensor, run, results
  grep -A20 '^Benchmark ' "$OUT/jmh.txt"
  [ $rc = 0 ] || exit $rc
fi
[ $# -gt 0 ] || exit 0
timeout 420 $java -Dgapstream.home="$PWD" -jar $g/gapstream.jar bench --set inference.provider=cuda "$@" \
  --json > "$OUT/bench-cuda.json" 2> "$OUT/bench-cuda.table"
rc=$?
[ $rc = 124 ] && rc=3
echo "bench: exit $rc"
grep -v -E 'INFO|^\s*[a-z.]+=|^bench:' "$OUT/bench-cuda.table" | tail -90
exit $rc

#!/bin/sh
# The whole GPU proof in one call on the device machine, so that it fits one command of the device tool:
#   1. the proof with the throughput bench against PyTorch   → OUT/plain
#   2. the same suites under compute-sanitizer's memcheck    → OUT/sanitizer, in what is left of SECONDS
# Usage: sh .gpu-proof/device-check.sh OUT [SECONDS=540]. FULMEN_PROOF_ARGS adds arguments to both runs (a dry
# run anywhere: FULMEN_PROOF_ARGS="--target emulated"). Prints one line per run with its exit code: 0 passed,
# 1 a check failed, 2 the GPU could not be used, 9 memcheck found an error, 124 out of time, 127 no sanitizer.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: device-check.sh OUT_DIR [SECONDS]}
budget=${2:-540}
start=$(date +%s)
mkdir -p "$out/plain" "$out/sanitizer"
if command -v nvidia-smi > /dev/null; then nvidia-smi > "$out/nvidia-smi.txt" 2>&1
else echo "nvidia-smi: not on this machine" > "$out/nvidia-smi.txt"; fi

# shellcheck disable=SC2086 # FULMEN_PROOF_ARGS is a list of arguments
timeout "$budget" sh "$here/run.sh" --out "$out/plain" ${FULMEN_PROOF_ARGS:-} \
  > "$out/plain/report.json" 2> "$out/plain/stderr.txt"
echo "plain run: exit $?"

# On PATH, in a CUDA toolkit, or anywhere a package manager may have put it.
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | tail -n 1)
[ -n "$sanitizer" ] || sanitizer=$(find /usr/local /opt /usr/lib /usr/bin -maxdepth 6 -name compute-sanitizer \
  -type f 2>/dev/null | head -n 1)
left=$((budget - ($(date +%s) - start)))
if [ -z "$sanitizer" ]; then
  echo "sanitized run: exit 127 (compute-sanitizer is not on this machine)"
elif [ "$left" -le 30 ]; then
  echo "sanitized run: exit 124 (no time left: ${left} s)"
else
  # shellcheck disable=SC2086
  FULMEN_PROOF_WRAPPER="$sanitizer --tool memcheck --error-exitcode 9" \
    timeout "$left" sh "$here/run.sh" --skip-bench --out "$out/sanitizer" ${FULMEN_PROOF_ARGS:-} \
    > "$out/sanitizer/report.json" 2> "$out/sanitizer/stderr.txt"
  echo "sanitized run: exit $? ($sanitizer, ${left} s allowed)"
fi

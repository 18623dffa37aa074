#!/usr/bin/env bash
# The CPU-sensitive test files on an emulated AVX2-only x86 CPU (no AVX-512, no VNNI): QEMU user mode runs
# node with `-cpu Haswell`, so onnxruntime's CPUID check picks its AVX2 int8 kernels, which round differently
# (u8 x s8 pair sums saturate in 16 bits). First proves the emulation changes the kernels (the int8 logits of
# scripts/int8-kernel-fingerprint.ts differ from this CPU's, the fp32 ones do not), then runs each file.
#
# Limits: QEMU user mode does not follow exec(), so processes a test starts (CLI, agents, the benchmark's
# forked worker) run natively; the files below run their int8 kernels in the test process itself.
# /proc/cpuinfo inside still shows the host's flags (QEMU passes it through); CPUID is what onnxruntime reads.
# Emulation is slow (TCG): minutes per file. Usage: bash scripts/test-avx2-emulated.sh [test/X.test.ts ...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -m)" = x86_64 ] || { echo "test-avx2-emulated: needs an x86_64 host (got $(uname -m))" >&2; exit 2; }
if ! command -v qemu-x86_64 >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
  else
    echo "test-avx2-emulated: needs qemu-x86_64 (apt-get install qemu-user)" >&2; exit 2
  fi
fi
# On a host without AVX-512 the suite itself already ran onnxruntime's AVX2 (or older) int8 kernels, and QEMU's
# TCG cannot emulate AVX-512/VNNI: nothing to add here, so say so and succeed (CI machines come in both kinds).
if ! grep -qw avx512f /proc/cpuinfo && [ -z "${EMULATED_CPU:-}" ]; then
  echo "test-avx2-emulated: this CPU has no AVX-512: the suite above ran the AVX2 int8 kernels natively; skipping emulation"
  exit 0
fi
CPU=${EMULATED_CPU:-Haswell}
# QEMU warns about CPUID bits TCG does not model (x2apic, rtm, ...): noise, not errors
emulated() { qemu-x86_64 -cpu "$CPU" "$(command -v node)" "$@" 2> >(grep -v "TCG doesn't support requested feature" >&2); }

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(test/compress.test.ts test/int8-static.test.ts test/quantized-randomization.test.ts test/attention-probe.test.ts)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
native=$(node --import tsx scripts/int8-kernel-fingerprint.ts "$work/fp")
emu=$(emulated --import tsx scripts/int8-kernel-fingerprint.ts "$work/fp")
echo "native:  ${native//$'\n'/ | }"
echo "$CPU: ${emu//$'\n'/ | }"
if [ "$(grep '^fp32' <<<"$native")" != "$(grep '^fp32' <<<"$emu")" ]; then
  echo "test-avx2-emulated: fp32 logits differ under emulation: the emulator, not the int8 kernels, changes the numbers" >&2; exit 1
fi
if [ "$(grep '^int8' <<<"$native")" = "$(grep '^int8' <<<"$emu")" ]; then
  echo "test-avx2-emulated: int8 logits are the same as this CPU's: the emulated CPU did not change onnxruntime's kernels (is this host AVX2-only already?)" >&2; exit 1
fi

status=0
for f in "${files[@]}"; do
  t0=$SECONDS
  # run in the test process itself (node --test would start a native child per file)
  if emulated --import tsx "$f" >"$work/out.txt" 2>&1; then
    echo "ok   $f ($((SECONDS - t0)) s, emulated $CPU)"
  else
    status=1
    echo "FAIL $f ($((SECONDS - t0)) s, emulated $CPU)"
    grep -E "^not ok|^# (pass|fail)|error:|expected|actual" "$work/out.txt" | head -40
  fi
done
exit $status

#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a bounded time.
#   scripts/fuzz.sh [--seconds N] [--max-len BYTES] [--build-dir DIR] [--no-build] [TARGET...]
# TARGET is a name such as fuzz_sse (default: every tests/fuzz/fuzz_*.cpp).
# Each target starts from a scratch copy of tests/fuzz/corpus/<name>/ under the build dir (the
# committed seeds are never written). Crash, leak, timeout and OOM inputs go to
# <build dir>/findings/<target>/, logs to <build dir>/fuzz-logs/. Exit status: 0 when no target
# found anything, 1 when one did, 2 on usage or build errors.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=20
max_len=65536
build_dir="$repo/build-fuzz"
build=1
targets=()

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --seconds)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      seconds=$2
      shift 2
      ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --max-len)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      max_len=$2
      shift 2
      ;;
    --max-len=*) max_len=${1#*=}; shift ;;
    --build-dir)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      build_dir=$2
      shift 2
      ;;
    --build-dir=*) build_dir=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

for number in "$seconds" "$max_len"; do
  if ! [[ "$number" =~ ^[1-9][0-9]{0,6}$ ]]; then
    echo "fuzz.sh: expected a positive number, got '$number'" >&2
    exit 2
  fi
done
case "$build_dir" in /*) ;; *) build_dir="$PWD/$build_dir" ;; esac

if [ ${#targets[@]} -eq 0 ]; then
  for source in "$repo"/tests/fuzz/fuzz_*.cpp; do
    [ -e "$source" ] || continue
    name=$(basename "$source" .cpp)
    targets+=("$name")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets in tests/fuzz/" >&2
  exit 2
fi

if [ "$build" -eq 1 ]; then
  cxx=${CXX:-clang++-14}
  if ! command -v "$cxx" >/dev/null; then
    echo "fuzz.sh: $cxx not found; install clang-14 and libclang-rt-14-dev or set CXX" >&2
    exit 2
  fi
  configure=(cmake -S "$repo" -B "$build_dir" -G Ninja -DMCPGW_FUZZ=ON -DMCPGW_BUILD_TESTS=OFF
    -DMCPGW_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  # The compiler is fixed at the first configure; passing it again would reset the cache.
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    configure+=("-DCMAKE_CXX_COMPILER=$cxx")
  fi
  echo "fuzz.sh: configuring $build_dir"
  "${configure[@]}" >/dev/null || exit 2
  echo "fuzz.sh: building ${targets[*]}"
  cmake --build "$build_dir" --target "${targets[@]}" -j "${FUZZ_BUILD_JOBS:-2}" || exit 2
fi

logs="$build_dir/fuzz-logs"
mkdir -p "$logs" "$build_dir/findings" "$build_dir/fuzz-corpus"
# UBSan only reports by default; halting turns undefined behaviour into a finding.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"

failed=()
for target in "${targets[@]}"; do
  binary="$build_dir/tests/fuzz/$target"
  if [ ! -x "$binary" ]; then
    echo "fuzz.sh: $binary is missing (build it, or drop --no-build)" >&2
    failed+=("$target")
    continue
  fi
  name=${target#fuzz_}
  corpus="$build_dir/fuzz-corpus/$name"
  findings="$build_dir/findings/$target"
  log="$logs/$target.log"
  rm -rf "$corpus" "$findings"
  mkdir -p "$corpus" "$findings"
  if [ -d "$repo/tests/fuzz/corpus/$name" ]; then
    cp -R "$repo/tests/fuzz/corpus/$name/." "$corpus/"
  else
    echo "fuzz.sh: warning: no seed corpus tests/fuzz/corpus/$name/" >&2
  fi

  echo "fuzz.sh: running $target for ${seconds}s"
  status=0
  # libFuzzer stops itself after -max_total_time; timeout is the backstop for a wedged run.
  timeout --kill-after=10 $((seconds + 120)) "$binary" \
    -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" \
    </dev/null >"$log" 2>&1 || status=$?
  artifacts=$(find "$findings" -type f | wc -l)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$status" -ne 0 ] || [ "$artifacts" -ne 0 ]; then
    echo "fuzz.sh: $target FAILED (exit $status, $artifacts finding(s) in $findings)" >&2
    tail -n 60 "$log" >&2
    failed+=("$target")
  else
    echo "fuzz.sh: $target ok (${runs:-?} runs, corpus $(find "$corpus" -type f | wc -l) inputs)"
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz.sh: findings in: ${failed[*]}; reproduce with <binary> <artifact>" >&2
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} target(s) clean"

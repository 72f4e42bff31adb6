#!/usr/bin/env bash
# One entry point for setting up, building and checking mcpgw on Debian 12.
#   scripts/dev.sh demo        install what is missing, build, run mcpgw serve on the demo config
#   scripts/dev.sh test        install what is missing, build, run every test (ctest)
#   scripts/dev.sh asan        the same tests in an ASan/UBSan build (build-asan/)
#   scripts/dev.sh fuzz [ARGS] install clang, then run scripts/fuzz.sh ARGS (build-fuzz/)
#   scripts/dev.sh build       install what is missing and build
#   scripts/dev.sh deps        only install what is missing
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

build_packages=(g++ cmake ninja-build pkg-config ccache libboost1.81-dev libssl-dev libpcap-dev
  nlohmann-json3-dev libspdlog-dev libcli11-dev libtomlplusplus-dev libre2-dev)
test_packages=(libgtest-dev libgmock-dev man-db groff-base clang-format openssl curl chromium)
fuzz_packages=(clang-14 libclang-rt-14-dev)

install_missing() {
  local missing=() package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
      missing+=("$package")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "dev.sh: need root (or sudo) to install ${missing[*]}" >&2; exit 2; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {  # build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

install_peers() {  # Node 22 and the npm test peers, into .cache/peers
  command -v npm >/dev/null || install_missing nodejs npm
  bash scripts/peers.sh
}

run_tests() {  # run_tests DIR
  ctest --test-dir "$1" --output-on-failure -j "$(nproc)" --timeout 300
}

case "${1:-}" in
  deps)
    install_missing "${build_packages[@]}" "${test_packages[@]}"
    ;;
  build)
    install_missing "${build_packages[@]}" "${test_packages[@]}"
    build build
    ;;
  demo)
    install_missing "${build_packages[@]}" "${test_packages[@]}"
    build build
    bash scripts/demo.sh
    ;;
  test)
    install_missing "${build_packages[@]}" "${test_packages[@]}"
    install_peers
    build build
    run_tests build
    ;;
  asan)
    install_missing "${build_packages[@]}" "${test_packages[@]}"
    install_peers
    build build-asan -DMCPGW_SANITIZE=ON -DMCPGW_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests build-asan
    ;;
  fuzz)
    shift
    install_missing "${build_packages[@]}" "${fuzz_packages[@]}"
    bash scripts/fuzz.sh "$@"
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test|asan|fuzz|build|deps" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Instructions executed by `check --batch --jobs 1` on a fixed 10,000-message corpus, counted by
# valgrind's callgrind: repeatable whatever else the machine is doing, so a regression check.
#
#   bench/instructions.sh [MESSAGES]
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-10000}
out=target/bench
mkdir -p "$out"
cargo build --release --quiet -p smslint-cli
corpus="$out/corpus-$messages.jsonl"
[ -s "$corpus" ] || python3 bench/gen_corpus.py "$messages" > "$corpus"
run() {
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$1.out" \
    target/release/smslint check --config tests/fixtures/snapshots/seed.json \
    --batch "$corpus" --format json --jobs 1 "${@:2}" > /dev/null 2> "$out/callgrind.$1.log" || true
  grep -oE 'Collected : [0-9]+' "$out/callgrind.$1.log" | awk '{print $3}'
}
# Policy load and process start, measured on an empty batch, are subtracted.
empty="$out/empty.jsonl"; : > "$empty"
base=$(valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.empty.out" \
  target/release/smslint check --config tests/fixtures/snapshots/seed.json --batch "$empty" \
  --format json --jobs 1 2>&1 >/dev/null | grep -oE 'Collected : [0-9]+' | awk '{print $3}')
total=$(run batch)
printf 'instructions: %s total, %s startup and policy load, %s per message\n' \
  "$total" "$base" "$(( (total - base) / messages ))"

#!/usr/bin/env bash
# Throughput and memory of `smslint check --batch` and `classify --batch` on a deterministic
# 100,000-message corpus.
#
#   bench/run.sh [MESSAGES] [RUNS]
#
# Builds the release binary, writes the corpus (bench/gen_corpus.py, fixed seed), then runs
# `check --batch --format json` with --jobs 1 and --jobs 2, and `classify --batch --jobs 1`
# (scores with their evidence), RUNS times each (default 5), under /usr/bin/time -v, and
# prints the median msgs/s, MB/s of input, CPU time and peak RSS; then the rate of a
# long stream's later messages, trigger-dense traffic, the peak RSS of the traffic that needs
# the most memory, the start-up (a check of an empty batch) and the library's
# classification rate and latency. This machine is noisy: compare variants within one run of
# this script, and read medians.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-100000}
runs=${2:-5}
out=target/bench
mkdir -p "$out"
cargo build --release --quiet -p smslint-cli
corpus="$out/corpus-$messages.jsonl"
[ -s "$corpus" ] || python3 bench/gen_corpus.py "$messages" > "$corpus"
bytes=$(wc -c < "$corpus")
snapshot=tests/fixtures/snapshots/seed.json
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Seconds from START to END, two readings of EPOCHREALTIME, to the microsecond. The clock is
# read where the run starts and stops, not in here: a command substitution forks before it runs.
elapsed() { awk -v s="${1/,/.}" -v e="${2/,/.}" 'BEGIN {printf "%.6f", e - s}'; }
# Run smslint with ARGS, its output dropped, under /usr/bin/time -v; print the seconds it took,
# timed here to the microsecond (with `time`'s own start, about a millisecond: `time -v` gives the
# wall clock in hundredths of a second, steps of 3% on a run of 0.3 s), and leave its peak RSS in
# KB in "$out/rss" and the CPU seconds it used (user and system, in hundredths) in "$out/cpu".
timed() {
  local start end
  start=$EPOCHREALTIME
  /usr/bin/time -v -o "$out/time" target/release/smslint "$@" > /dev/null || true
  end=$EPOCHREALTIME
  awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time" > "$out/rss"
  awk -F': ' '/(User|System) time \(seconds\)/ {t += $2} END {printf "%.2f\n", t}' "$out/time" > "$out/cpu"
  elapsed "$start" "$end"
}
printf 'corpus: %s messages, %s bytes (%s)\n' "$messages" "$bytes" "$corpus"
python3 - "$corpus" <<'PY'
import json, statistics, sys
lengths = [len(json.loads(l)["text"].encode()) for l in open(sys.argv[1], encoding="utf-8")]
non_ascii = sum(1 for l in open(sys.argv[1], encoding="utf-8") if not json.loads(l)["text"].isascii())
lengths.sort()
q = lambda p: lengths[int(p * (len(lengths) - 1))]
print(f"text bytes: mean {statistics.mean(lengths):.0f}, p10 {q(.1)}, p50 {q(.5)}, p90 {q(.9)}, max {lengths[-1]}; non-ASCII {100*non_ascii/len(lengths):.1f}%")
PY
for run in "check 1" "check 2" "classify 1"; do
  read -r command jobs <<< "$run"
  if [ "$command" = check ]; then
    args=(check --config "$snapshot" --batch "$corpus" --format json --jobs "$jobs")
  else
    args=(classify --batch "$corpus" --jobs "$jobs")
  fi
  rates=(); rss=(); cpu=()
  for _ in $(seq "$runs"); do
    secs=$(timed "${args[@]}")
    rates+=("$(awk -v n="$messages" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')")
    rss+=("$(cat "$out/rss")")
    cpu+=("$(cat "$out/cpu")")
  done
  rate=$(median "${rates[@]}")
  peak=$(median "${rss[@]}")
  # The CPU time as well as the wall clock: with several workers, what the machine spends on
  # the batch, beside how long it takes.
  printf '%s --batch --jobs %s: %s msgs/s (runs: %s), %.1f MB/s, CPU %s s, peak RSS %.1f MB\n' \
    "$command" "$jobs" "$rate" "${rates[*]}" "$(awk -v r="$rate" -v b="$bytes" -v n="$messages" 'BEGIN {print r * b / n / 1e6}')" \
    "$(median "${cpu[@]}")" "$(awk -v k="$peak" 'BEGIN {print k / 1024}')"
done
# A long stream: `check` of four times as many messages (the corpus is their first quarter),
# each run paired with one of the corpus; the rate of the extra messages is what a pipeline that
# keeps one process running sees, without the start-up and the lazy DFA's state building that a
# run pays mostly in its first messages. With one worker, and with two (the default here).
long_messages=$((messages * 4))
long="$out/corpus-$long_messages.jsonl"
[ -s "$long" ] || python3 bench/gen_corpus.py "$long_messages" > "$long"
for jobs in 1 2; do
  marginal=(); long_rss=()
  for _ in $(seq "$runs"); do
    short_secs=$(timed check --config "$snapshot" --batch "$corpus" --format json --jobs "$jobs")
    long_secs=$(timed check --config "$snapshot" --batch "$long" --format json --jobs "$jobs")
    long_rss+=("$(cat "$out/rss")")
    marginal+=("$(awk -v n="$((long_messages - messages))" -v l="$long_secs" -v s="$short_secs" 'BEGIN {printf "%.0f", n / (l - s)}')")
  done
  printf 'check --batch --jobs %s, a long stream: %s msgs/s for messages %s-%s (runs: %s), peak RSS %.1f MB\n' \
    "$jobs" "$(median "${marginal[@]}")" "$((messages + 1))" "$long_messages" "${marginal[*]}" \
    "$(awk -v k="$(median "${long_rss[@]}")" 'BEGIN {print k / 1024}')"
done
# Trigger-dense text, each message new (bench/gen_dense.py): the worst case for the pattern
# set's lazy DFA, whose new states are paid for from a budget and, once it is spent, left to the
# patterns' groups.
dense_messages=$((messages / 10))
dense="$out/dense-$dense_messages.jsonl"
[ -s "$dense" ] || python3 bench/gen_dense.py "$dense_messages" > "$dense"
dense_rates=(); dense_rss=()
for _ in $(seq "$runs"); do
  secs=$(timed check --config "$snapshot" --batch "$dense" --format json --jobs 1)
  dense_rates+=("$(awk -v n="$dense_messages" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')")
  dense_rss+=("$(cat "$out/rss")")
done
dense_rate=$(median "${dense_rates[@]}")
printf 'check --batch --jobs 1, %s trigger-dense messages of 120-900 bytes: %s msgs/s, %.1f us a message (runs: %s), peak RSS %.1f MB\n' \
  "$dense_messages" "$dense_rate" "$(awk -v r="$dense_rate" 'BEGIN {print 1e6 / r}')" "${dense_rates[*]}" \
  "$(awk -v k="$(median "${dense_rss[@]}")" 'BEGIN {print k / 1024}')"
# Peak RSS, the bound of 30 MB, on the traffic that needs the most memory: diverse text (the
# labelled corpus ten times over: each message meets words the lazy DFA has no states for, and
# then comes back), trigger-dense text, and trigger-dense lines as long as a batch takes by
# default (65536 bytes; each byte of a text costs about 30 while it is checked). Medians of 3.
# Diverse text also with 4 and 8 workers, the default on machines of 4 and 8 cores: each
# worker that runs keeps states of its own.
diverse="$out/labelled-x10.jsonl"
[ -s "$diverse" ] || for _ in $(seq 10); do cat tests/corpus/dev.jsonl; done > "$diverse"
longest="$out/dense-400-65536.jsonl"
[ -s "$longest" ] || python3 bench/gen_dense.py 400 0xDE45E00020260001 65536 > "$longest"
for set in "diverse $diverse" "trigger-dense $dense" "longest-lines $longest"; do
  read -r name file <<< "$set"
  line="peak RSS, $name ($(wc -l < "$file") lines):"
  workers=(1 2)
  [ "$name" = diverse ] && workers+=(4 8)
  for jobs in "${workers[@]}"; do
    for command in check classify; do
      if [ "$command" = check ]; then
        args=(check --config "$snapshot" --batch "$file" --format json --jobs "$jobs")
      else
        args=(classify --batch "$file" --jobs "$jobs")
      fi
      rss=()
      for _ in 1 2 3; do timed "${args[@]}" > /dev/null; rss+=("$(cat "$out/rss")"); done
      line+=$(printf ' %s --jobs %s %.1f MB;' "$command" "$jobs" "$(awk -v k="$(median "${rss[@]}")" 'BEGIN {print k / 1024}')")
    done
  done
  echo "${line%;}"
done
# Start-up: a check of an empty batch (process start, policy load and compile, snapshot), what a
# pipeline that starts a process per message pays for each one.
empty="$out/empty.jsonl"; : > "$empty"
starts=()
for _ in $(seq 21); do
  start=$EPOCHREALTIME
  target/release/smslint check --config "$snapshot" --batch "$empty" --format json --jobs 1 > /dev/null
  end=$EPOCHREALTIME
  starts+=("$(awk -v t="$(elapsed "$start" "$end")" 'BEGIN {printf "%.1f", t * 1000}')")
done
printf 'start-up (check of an empty batch): %s ms (median of 21 runs; fastest %s ms)\n' \
  "$(median "${starts[@]}")" "$(printf '%s\n' "${starts[@]}" | sort -n | head -1)"
# The library alone: normalise and classify each message of the same corpus, one core.
cargo bench --quiet -p smslint-core --bench latency -- "$PWD/$corpus" 2>/dev/null | grep -E '^(classify|latency)'

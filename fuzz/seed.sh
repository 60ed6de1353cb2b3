#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ with seed inputs taken from the repository's own fixtures, so the
# fuzzers start from realistic snapshots, policies, messages and batch lines.
set -euo pipefail
cd "$(dirname "$0")"
root=..
for t in snapshot policy classify batch catalog; do mkdir -p "corpus/$t"; done

cp "$root"/tests/fixtures/snapshots/*.json corpus/snapshot/

# policy: the first byte picks the format (even: YAML, odd: JSON).
for f in "$root"/tests/fixtures/policies/*.yaml "$root"/tests/fixtures/policies/*/*.yaml; do
    { printf '\0'; cat "$f"; } > "corpus/policy/$(basename "$(dirname "$f")")-$(basename "$f")"
done
for f in "$root"/tests/fixtures/policies/*.json "$root"/tests/fixtures/policies/*/*.json; do
    { printf '\1'; cat "$f"; } > "corpus/policy/$(basename "$(dirname "$f")")-$(basename "$f")"
done

# classify: every corpus message, one file each.
python3 - "$root" <<'PY'
import json, sys, pathlib
root = pathlib.Path(sys.argv[1])
n = 0
for name in ("dev.jsonl", "test.jsonl"):
    for line in (root / "tests/corpus" / name).read_text().splitlines():
        n += 1
        (pathlib.Path("corpus/classify") / f"{n:05}").write_text(json.loads(line)["text"])
PY

# batch: two bytes (read step, line limit / 4), then lines; some from the corpus, some broken.
python3 - "$root" <<'PY'
import pathlib, sys
root = pathlib.Path(sys.argv[1])
lines = (root / "tests/corpus/dev.jsonl").read_bytes().splitlines(keepends=True)
for i in range(0, 200, 10):
    body = b"".join(lines[i:i + 10])
    (pathlib.Path("corpus/batch") / f"corpus-{i:03}").write_bytes(bytes([7 + i, 255]) + body)
broken = b'{"text": 5}\n{not json\n\n\xff\xfe\n{"id": 7, "text": "caf\\u00e9"}\r\n{"id":[1],"to":"+1"}\n' + b'{"text":"' + b"a" * 300 + b'"}\n'
(pathlib.Path("corpus/batch") / "broken").write_bytes(bytes([3, 40]) + broken)
PY

# catalog: the first byte's low two bits pick the file kind (YAML, JSON, JSON Lines, text), its
# other six where inside_value starts (in 64ths of the text).
for f in "$root"/tests/fixtures/templates/*.* "$root"/tests/fixtures/templates/*/*.*; do
    case "$f" in
        *.yaml|*.yml) kind='\0' ;;
        *.json) kind='\1' ;;
        *.jsonl) kind='\2' ;;
        *.txt) kind='\3' ;;
        *) continue ;;
    esac
    { printf "$kind"; cat "$f"; } > "corpus/catalog/$(basename "$(dirname "$f")")-$(basename "$f")"
done

echo "seeded: $(ls corpus/snapshot | wc -l) snapshots, $(ls corpus/policy | wc -l) policies, $(ls corpus/classify | wc -l) messages, $(ls corpus/batch | wc -l) batches, $(ls corpus/catalog | wc -l) template files"

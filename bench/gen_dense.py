#!/usr/bin/env python3
"""Write a deterministic JSON Lines corpus of trigger-dense messages, each one new.

Usage: gen_dense.py N [SEED [LINE_BYTES]] > dense.jsonl

The worst case for the pattern set: half the texts are runs of the words, amounts, codes and
line breaks that the policy's patterns start at ("reply", "code", "$5", "stop", digits), half
random printable ASCII; 120 to 900 bytes. Each text meets combinations of live patterns that no
earlier text met, so the lazy DFA of the whole set keeps building states (bench/LOG.md). Spam
traffic can look like this; the usual corpus (gen_corpus.py) does not. With LINE_BYTES, each
text is instead as long as fits a JSON line of that many bytes before its newline (a batch
takes at most 65536 by default): the worst case for its memory. The same arguments always give
the same bytes.
"""
import json
import random
import sys

ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%.,!?:/-#@()\n'\"&*+=_")
WORDS = ["free", "code", "your", "order", "$", "reply", "stop", "http://", "www.", "win", "cash",
         "loan", "offer", "%", "off", "call", "now", "verify", "1", "20", "365", "to", "text",
         "the", "is", "pin", "bet", "earn", "claim", "prize"]
ENDINGS = ["", "1", "$5", "!", "\n", "."]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    seed = int(sys.argv[2], 0) if len(sys.argv) > 2 else 0xDE45_E000_2026_0001
    line_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else None
    rng = random.Random(seed)
    out = sys.stdout
    for i in range(n):
        length = line_bytes or rng.choice([120, 300, 600, 900])
        if i % 2:
            text = "".join(rng.choice(ALPHABET) for _ in range(length))
        else:
            text = " ".join(rng.choice(WORDS) + rng.choice(ENDINGS) for _ in range(length // 4))
            text = text[:length]
        if line_bytes:
            text = text[:fitting(text, f"d-{i}", line_bytes)]
        out.write(json.dumps({"id": f"d-{i}", "text": text}) + "\n")


def fitting(text, id, line_bytes):
    """How much of TEXT goes in a JSON line of at most LINE_BYTES bytes (a binary search)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(json.dumps({"id": id, "text": text[:middle]}).encode()) <= line_bytes:
            low = middle
        else:
            high = middle - 1
    return low


if __name__ == "__main__":
    main()

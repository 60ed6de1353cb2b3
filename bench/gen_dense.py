#!/usr/bin/env python3
"""Write a deterministic JSON Lines corpus of trigger-dense messages, each one new.

Usage: gen_dense.py N [SEED] > dense.jsonl

The worst case for the pattern set: half the texts are runs of the words, amounts, codes and
line breaks that the policy's patterns start at ("reply", "code", "$5", "stop", digits), half
random printable ASCII; 120 to 900 bytes. Each text meets combinations of live patterns that no
earlier text met, so the lazy DFA of the whole set keeps building states (bench/LOG.md). Spam
traffic can look like this; the usual corpus (gen_corpus.py) does not. The same N and SEED
always give the same bytes.
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
    rng = random.Random(seed)
    out = sys.stdout
    for i in range(n):
        length = rng.choice([120, 300, 600, 900])
        if i % 2:
            text = "".join(rng.choice(ALPHABET) for _ in range(length))
        else:
            text = " ".join(rng.choice(WORDS) + rng.choice(ENDINGS) for _ in range(length // 4))
            text = text[:length]
        out.write(json.dumps({"id": f"d-{i}", "text": text}) + "\n")


if __name__ == "__main__":
    main()

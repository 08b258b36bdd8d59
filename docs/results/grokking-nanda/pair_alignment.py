#!/usr/bin/python3
"""Extracts the alignment score of every consecutive weight pair from Grokking runs' monitor records (spectral.jsonl,
one JSON record per step: "Alignment" holds {"Name": "a → b", "Score": ...}) into one compact CSV, pair-alignment.csv:
weight_decay,seed,step,test_accuracy,<one column per pair>, the test accuracy from the same run's grokking.csv rows, so
that each run's scores are read against its own 50 % crossing. The records themselves (1.1 MB per run) are not committed.

usage: pair_alignment.py WD:SEED:PATH/spectral.jsonl:PATH/grokking.csv ...   (rows of the given runs replace their old rows)"""
import csv, json, os, sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pair-alignment.csv")


def short(layer):
    return layer.replace("blocks.0.", "").replace("mlp.", "")


def pair_name(name):
    a, b = name.split(" → ")
    return f"{short(a)}->{short(b)}"


old = list(csv.DictReader(open(OUT))) if os.path.exists(OUT) else []
new, header = [], None
for arg in sys.argv[1:]:
    wd, seed, records, accuracies = arg.split(":", 3)
    accuracy = {int(r["step"]): r["test_accuracy"] for r in csv.DictReader(open(accuracies)) if int(r["seed"]) == int(seed)}
    for line in open(records):
        record = json.loads(line)
        scores = {pair_name(a["Name"]): a["Score"] for a in record["Alignment"]}
        header = header or ["weight_decay", "seed", "step", "test_accuracy", *scores]
        new.append({"weight_decay": wd, "seed": seed, "step": str(record["Step"]), "test_accuracy": accuracy[record["Step"]],
                    **{k: repr(v) for k, v in scores.items()}})
if not new:
    sys.exit(__doc__)
replaced = {(r["weight_decay"], r["seed"]) for r in new}
rows = [r for r in old if (r["weight_decay"], r["seed"]) not in replaced] + new
rows.sort(key=lambda r: (r["weight_decay"], int(r["seed"]), int(r["step"])))
with open(OUT + ".tmp", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
os.replace(OUT + ".tmp", OUT)
print(f"{OUT}: {len(rows)} rows, runs {sorted({(r['weight_decay'], int(r['seed'])) for r in rows})}")

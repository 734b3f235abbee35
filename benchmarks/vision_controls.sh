#!/usr/bin/env bash
# The controls of the image experiment on the real COCO images in ../shared (random-init
# backbone: no pretrained weights can be downloaded here). Produces every figure of README's
# "Controls on real COCO data" table and the two images under docs/.
# Usage: bash benchmarks/vision_controls.sh [COCO_MINI_DIR] [OUT_DIR]
set -euo pipefail
D=${1:-../shared/data/images/coco-mini}
O=${2:-/tmp/vision-controls}
mkdir -p "$O"
common=(--arch resnet18 --random-init --workers 1 --quiet)
# 1. Defaults: the quality bar (ROC AUC >= 0.75, >= 20 positives) leaves no category in the tests.
time ncc vision run --images "$D" --annotations "$D/annotations" "${common[@]}" --output "$O/default"
# 2. Every category forced into the tests, the paper's MLP class variable: shuffled c vs refitted labels.
time ncc vision analyze --features "$O/default/features" --output "$O/mlp" --min-auc 0 --min-positives 0 \
    --permutations 100 --label-permutations 19 --quiet
# 3. The same with the logistic-regression class variable (cheaper refits, so more of them).
time ncc vision analyze --features "$O/default/features" --output "$O/logreg" --min-auc 0 --min-positives 0 \
    --classifier logreg --permutations 49 --label-permutations 49 --quiet
# 4. Two smaller COCO sets: the train2017 and the val2017 images on their own.
for split in train2017 val2017; do
  time ncc vision run --images "$D" --annotations "$D/annotations/instances_$split.json" "${common[@]}" \
      --output "$O/$split" --classifier logreg --min-auc 0 --min-positives 0 --permutations 49 \
      --label-permutations 49
done
# Print the table rows.
python - "$O" <<'PY'
import json, sys
from pathlib import Path

f = lambda v: "–" if v is None else f"{v:.3g}"
for name in ("mlp", "logreg", "train2017", "val2017"):
    r = json.loads((Path(sys.argv[1]) / name / "report.json").read_text())
    o, c = r["tests"]["object_ratio"], r["tests"]["context_ratio"]
    print(f"| {name} | {r['images']['n_analysed']} | {r['classifier']['kind']} | "
          f"{o['n_anticausal_greater']} of {o['n_categories']} | {f(o['sign_test_p'])} | {f(o['permutation_p'])} | "
          f"{f(o['label_permutation_p'])} | {o['marginal_matched_n_greater']} | "
          f"{c['n_anticausal_greater']} of {c['n_categories']} | {f(c['sign_test_p'])} | {f(c['permutation_p'])} | "
          f"{f(c['label_permutation_p'])} |")
PY

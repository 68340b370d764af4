"""Print the README's results tables from the manifests in a model repository: the main one,
then conditional sampling (metrics.conditional_accuracy) per model and label.

uv run python scripts/results_table.py [models]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Reference test MSEs on [0, 1] from the designs' sources (see README, "Results").
REFERENCE = {"conv32": "0.0043", "mlp128": "0.0040"}


def row(m: dict) -> str:  # type: ignore[type-arg]
    x, t = m["metrics"], m["training"]
    q = x["sample_quality"] or {}
    pca = "-" if x["pca_mse"] is None else f"{x['pca_mse']:.4f}"
    fd = f"{q['frechet_distance']:.0f} / {q['mean_confidence']:.2f}" if q else "-"
    elbo = "" if x["test_elbo"] is None else f" (ELBO {x['test_elbo']:.1f})"
    return (
        f"| `{m['name']}` | {m['latent_dim']} | {t['epochs']} | {x['test_mse']:.5f}{elbo} | "
        f"{x['test_psnr']:.1f} | {x['knn_accuracy']:.3f} | {x['silhouette']:.3f} | {fd} | "
        f"{t['seconds']:.0f} s {t['device']} | {REFERENCE.get(m['model'], '-')} | {pca} |"
    )


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "models")
    print(
        "| model | D | epochs | test MSE | PSNR dB | kNN acc | silhouette | FD / conf | "
        "train time | reference MSE | PCA MSE |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    manifests = [json.loads(p.read_text()) for p in sorted(root.glob("*/manifest.json"))]
    for m in manifests:
        print(row(m))
    print()
    print("| model | mean | " + " | ".join(str(i) for i in range(10)) + " | confident |")
    print("| --- " * 13 + "|")
    for m in manifests:
        if m["metrics"].get("conditional_accuracy"):
            print(conditional_row(m))


def conditional_row(m: dict) -> str:  # type: ignore[type-arg]
    """Share of each label's conditional samples the classifier reads as that label, and the
    share of all of them it is over 90% confident about."""
    acc = m["metrics"]["conditional_accuracy"]
    cells = " | ".join(f"{v:.2f}" for v in acc["per_label"].values())
    return f"| `{m['name']}` | **{acc['mean']:.3f}** | {cells} | {acc['share_confident']:.2f} |"


if __name__ == "__main__":
    main()

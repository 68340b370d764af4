"""The learned prior's figures beside its baselines, per committed model, as a markdown
table (docs/training.md), from the manifests `python -m trainer refresh` wrote.

    uv run python -m scripts.prior_table
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAD = ("| model | D | learned FD | confident | cond. acc. | Gaussian FD | label GMM FD "
        "(cond.) | recon. FD (floor) | fit s | served by default |")  # fmt: skip


def row(name: str, m: dict) -> str:
    lp = m["learned_prior"]
    fig, base = lp["metrics"], lp["metrics"]["baselines"]
    gmm_cond = m["metrics"]["conditional_accuracy"]["mean"]
    mixture = m["prior"].get("mixture") == "label_priors"
    default = "learned" if lp["preferred"] else ("label GMM" if mixture else "Gaussian")
    return (
        f"| `{name}` | {m['latent_dim']} | **{fig['sample_quality']['frechet_distance']:.1f}** | "
        f"{fig['sample_quality']['share_confident']:.3f} | "
        f"{fig['conditional_accuracy']['mean']:.3f} | "
        f"{base['gaussian']['frechet_distance']:.1f} | "
        f"{base['label_gmm']['frechet_distance']:.1f} ({gmm_cond:.3f}) | "
        f"{base['reconstruction']['frechet_distance']:.1f} | {lp['train_seconds']:.0f} | "
        f"{default} |"
    )


def main() -> None:
    print(HEAD)
    print("| " + " | ".join(["---"] * 10) + " |")
    for path in sorted((ROOT / "models").glob("*/manifest.json")):
        m = json.loads(path.read_text())
        if m.get("learned_prior", {}).get("metrics"):
            print(row(path.parent.name, m))


if __name__ == "__main__":
    main()

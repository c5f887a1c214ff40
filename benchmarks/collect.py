"""One table from finished training runs (their ``results.json``), e.g. runs of one protocol made by
separate benchmark invocations. Every test set of every run, frame-weighted, last epoch.

Runs of the video GAN (``gan/accel_fake_mm`` in their history) also get a smoothness table and
``NAME_smoothness.png``: the mean joint acceleration of generated windows per GAN epoch against real ones.

A hand-written ``## Notes`` section already at the end of ``NAME.md`` is kept when the tables are
rebuilt.

Run from the repository root:  python benchmarks/collect.py runs/A runs/B ... --stem NAME [--title T]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from common import RESULTS, machine, write


def smoothness(runs: list[str], stem: str) -> list[str]:
    """Markdown lines + a PNG: generated vs real mean joint acceleration per GAN epoch of each video-GAN run."""
    curves = []
    for run in runs:
        res = json.loads((Path(run) / "results.json").read_text())
        hist = [h for h in res.get("history", []) if h.get("gan/accel_fake_mm") is not None]
        if hist:
            label = f"seed {res['config']['train']['seed']}: {variant(res['config'])[2:-1]}; {loss_label(res['config'])} loss"
            curves.append(
                (
                    label,
                    [h["epoch"] for h in hist],
                    [h["gan/accel_fake_mm"] for h in hist],
                    [h["gan/accel_real_mm"] for h in hist],
                )
            )
    if not curves:
        return []
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5 + 0.2 * len(curves)))
    ax = fig.add_subplot(1, 1, 1)
    for label, e, fake, _ in curves:
        ax.plot(e, fake, "o-", label=f"generated: {label}")
    ax.axhline(curves[0][3][-1], color="k", ls="--", lw=2, label="real training windows")
    ax.set_yscale("log")
    ax.set_xlabel("GAN epoch")
    ax.set_ylabel("mean joint acceleration (mm / frame$^2$)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    fig.tight_layout()
    fig.savefig(RESULTS / f"{stem}_smoothness.png", dpi=100)
    md = [
        "## Smoothness of generated windows",
        "",
        "| generator | first GAN epoch | last GAN epoch | real |",
        "|---|---|---|---|",
    ]
    md += [f"| {label} | {fake[0]:.1f} | {fake[-1]:.1f} | {real[-1]:.1f} |" for label, _, fake, real in curves]
    return md + ["", f"Mean joint acceleration, mm / frame², at the training frame rate: `{stem}_smoothness.png`.", ""]


def loss_label(cfg: dict) -> str:
    """The pose-net loss of a run (runs before ``train.loss`` existed trained on MSE)."""
    loss = cfg["train"].get("loss", "mse")
    return loss if loss != "auto" else ("mpjpe" if cfg["model"]["frames"] > 1 else "mse")


def variant(cfg: dict) -> str:
    """The video-GAN settings that tell runs apart (empty for other methods)."""
    a = cfg["augment"]
    if a["method"] != "dhaug-video":
        return ""
    k = a.get("temporal_basis", 0)
    return (
        f" ({'free frames' if k == 0 else 'cosines ' + ('auto' if k == -1 else str(k))}, critic frames "
        f"{a.get('critic_frames') or 'all'}, motion width {a['motion_width']}"
        + (f", n_critic {a['n_critic']}" if a.get("n_critic", 5) != 5 else "")
        + (", fakes also reversed" if cfg["train"].get("time_reverse_synthetic", True) else "")
        + ")"
    )


def summary(rows: list[dict]) -> list[str]:
    """Mean ± half-range over seeds of runs that differ only in the seed."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["model"], r["frames"], r["loss"], r["augment"], r["set"], r["window"]), []).append(r)
    if all(len(g) == 1 for g in groups.values()):
        return []
    md = [
        "## Over seeds (mean ± half-range)",
        "",
        "| model | frames | loss | augment | seeds | test set | window | MPJPE | P-MPJPE | training time (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (model, frames, loss, aug, name, window), g in groups.items():
        cell = lambda k: f"{np.mean([r[k] for r in g]):.1f} ± {np.ptp([r[k] for r in g]) / 2:.1f}"  # noqa: E731
        md.append(
            f"| {model} | {frames} | {loss} | {aug} | {','.join(str(r['seed']) for r in g)} | {name} | {window} | "
            f"{cell('mpjpe')} | {cell('p_mpjpe')} | {np.mean([r['wall_s'] for r in g]):.0f} |"
        )
    return md + [""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--stem", required=True)
    ap.add_argument("--title", default="Collected runs")
    a = ap.parse_args()
    rows = []
    for run in a.runs:
        res = json.loads((Path(run) / "results.json").read_text())
        cfg = res["config"]
        hist = res.get("history", [])
        for name, r in res["results"].items():
            w = r.get("window")
            rows.append(
                {
                    "run": run,
                    "model": cfg["model"]["name"],
                    "frames": cfg["model"]["frames"],
                    "loss": loss_label(cfg),
                    "augment": cfg["augment"]["method"] + variant(cfg),
                    "seed": cfg["train"]["seed"],
                    "set": name,
                    "window": f"{w['frames']} x {w['fps']:g} fps" if w else "1",
                    "flip_test": r["flip_test"],
                    **{k: r["frame_mean"][k] for k in ("mpjpe", "p_mpjpe", "pck", "auc")},
                    "seq_mpjpe": r.get("sequence_mean", {}).get("mpjpe"),
                    "wall_s": sum(h["seconds"] for h in hist),
                }
            )
    md = [
        f"# {a.title}",
        "",
        "| model | frames | loss | augment | seed | test set | window | MPJPE | P-MPJPE | PCK | AUC | "
        "MPJPE, sequence mean | training time (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['model']} | {r['frames']} | {r['loss']} | {r['augment']} | {r['seed']} | "
        f"{r['set']}{' (flip test)' if r['flip_test'] else ''} | {r['window']} | {r['mpjpe']:.2f} | {r['p_mpjpe']:.2f} | "
        f"{r['pck']:.2f} | {r['auc']:.2f} | {'' if r['seq_mpjpe'] is None else format(r['seq_mpjpe'], '.2f')} | "
        f"{r['wall_s']:.0f} |"
        for r in rows
    ]
    md += (
        [
            "",
            "Frame-weighted means, mm and %, last epoch (no model selection). Runs: "
            + ", ".join(f"`{r}`" for r in a.runs),
            "",
        ]
        + summary(rows)
        + smoothness(a.runs, a.stem)
        + [f"Machine: {machine()}", ""]
    )
    old = RESULTS / f"{a.stem}.md"
    notes = old.read_text().split("\n## Notes\n", 1) if old.is_file() else []
    if len(notes) == 2:  # keep the hand-written notes
        md += ["## Notes", notes[1].rstrip("\n"), ""]
    write(a.stem, {"rows": rows, "machine": machine()}, "\n".join(md))


if __name__ == "__main__":
    main()

"""``dhaug demo``: the main job end to end on a built-in default.

Without ``--data-dir`` it uses the package's SYNTHETIC motion data (procedural skeletons with human
proportions, 4 virtual cameras per subject, and a held-out "other dataset" with different
proportions and viewpoints), small networks and a few epochs, so it finishes in minutes on a CPU.
With ``--data-dir`` the same command runs the real protocol (S1,S5,S6,S7,S8 → S9,S11, GT 2D,
full-size networks, the 50 + 60 epoch schedule unless ``--epochs`` is given).

Each backbone is trained and evaluated like ``dhaug train``; a comparison table and chart of all
of them are written to ``OUT/summary.{md,json,png}``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .config import load_config
from .data import load_experiment_data
from .train import train

DEFAULT_MODELS = ("videopose", "mlp", "semgcn")


def demo_overrides(model: str, out_dir: Path, data_dir: str | None, cross: list[str] | None,
                   epochs: int | None, device: str) -> list[str]:
    common = [f"model.name={model}", f"out_dir={out_dir.as_posix()}/{model}", f"name=demo-{model}", f"train.device={device}"]
    if data_dir is None:
        return common + [
            "data.dataset=synthetic", "data.downsample=2",
            # small networks: the demo shows the pipeline, the benchmarks measure the real sizes
            "model.channels=256", "model.stages=2", "model.gcn_hidden=32", "model.gcn_blocks=2",
            f"train.epochs={epochs or 10}", "train.tail_epochs=0", "train.lr=1e-3", "train.batch_size=256",
        ]
    out = common + ["data.dataset=h36m"]
    if epochs is not None:
        out += [f"train.epochs={epochs}", "train.tail_epochs=0"]
    return out


def run_demo(out_dir: str = "runs/demo", data_dir: str | None = None, cross: list[str] | None = None,
             epochs: int | None = None, models=None, device: str = "auto") -> dict:
    out = Path(out_dir)
    models = list(models or DEFAULT_MODELS)
    if data_dir is None:
        print("dhaug demo: built-in SYNTHETIC data (procedural motions, not real people) - "
              "point --data-dir at Human3.6M npz files for the real protocol")
    else:
        print(f"dhaug demo: real protocol on {data_dir} (this takes hours on a CPU; --epochs N shortens it)")
    updates = {"data": {"data_dir": data_dir, "cross_sets": list(cross or [])}} if data_dir else None
    cfgs = [load_config(None, demo_overrides(m, out, data_dir, cross, epochs, device), updates) for m in models]
    data = load_experiment_data(cfgs[0].data)  # every backbone trains on the same data
    print(f"data: {data.description}; {len(data.train)} training pairs; test sets: "
          + ", ".join(f"{k} ({len(v)} pairs)" for k, v in data.tests.items()))
    table = {}
    for cfg in cfgs:
        print(f"\n=== {cfg.model.name} ===")
        table[cfg.model.name] = train(cfg, data=data)
    summary = write_summary(table, out, data.description)
    print("\n" + summary)
    print(f"pictures and tables: {out}/summary.png, {out}/summary.md, {out}/<model>/ "
          "(per_action.png, curves.png, examples_*.png, results.md)")
    return table


def write_summary(table: dict[str, dict], out: Path, description: str) -> str:
    sets = list(next(iter(table.values())))
    lines = [f"# dhaug demo: {description}", "", "Last-epoch numbers, frame-weighted means.", "",
             "| model | " + " | ".join(f"{s} MPJPE | {s} P-MPJPE" for s in sets) + " |",
             "|---|" + "---|---|" * len(sets)]
    for model, res in table.items():
        lines.append(f"| {model} | " + " | ".join(
            f"{res[s]['frame_mean']['mpjpe']:.1f} | {res[s]['frame_mean']['p_mpjpe']:.1f}" for s in sets) + " |")
    text = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text(text)
    (out / "summary.json").write_text(json.dumps(
        {m: {s: r[s]["frame_mean"] for s in sets} for m, r in table.items()}, indent=2))
    fig = Figure(figsize=(3 + 2.5 * len(sets), 4))
    ax = fig.subplots()
    width = 0.8 / len(table)
    for i, (model, res) in enumerate(table.items()):
        vals = [res[s]["frame_mean"]["mpjpe"] for s in sets]
        ax.bar(np.arange(len(sets)) + i * width, vals, width, label=model)
    ax.set_xticks(np.arange(len(sets)) + width * (len(table) - 1) / 2, sets)
    ax.set(ylabel="MPJPE (mm)", title="test error per test set (last epoch)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "summary.png", dpi=100)
    return text

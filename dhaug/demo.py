"""``dhaug demo``: what dhaug is for, end to end on a built-in default: a single-frame VideoPose3D trained
three times (without augmentation, with random DH poses, with the DH-AUG GAN) on the built-in SYNTHETIC
data, or on the real protocol with ``--data-dir``. Each run is trained and evaluated like ``dhaug train``
(into ``OUT/<model>_<augmentation>/``); the comparison goes to ``OUT/summary.{md,json,png}``.

Details: docs/cli.md#dhaug-demo
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .config import load_config
from .data import load_experiment_data
from .train import train

DEFAULT_MODELS = ("videopose",)
DEFAULT_AUGMENTS = ("none", "random", "dhaug")


def demo_overrides(
    model: str, augment: str, out_dir: Path, data_dir: str | None, epochs: int | None, device: str
) -> list[str]:
    """The config overrides of one demo run (``model`` trained with ``augment``)."""
    label = f"{model}_{augment}"
    common = [
        f"model.name={model}",
        f"augment.method={augment}",
        f"out_dir={out_dir.as_posix()}/{label}",
        f"name=demo-{label}",
        f"train.device={device}",
    ]
    if data_dir is None:
        return common + [
            "data.dataset=synthetic",
            "data.downsample=2",
            # small networks and a short GAN warm-up: the demo shows the method, the benchmarks measure it
            "model.channels=256",
            "model.stages=2",
            "model.gcn_hidden=32",
            "model.gcn_blocks=2",
            f"train.epochs={epochs or 8}",
            "train.tail_epochs=0",
            "train.lr=1e-3",
            "train.batch_size=256",
            "train.precision=auto",
            "augment.num_poses=1200",  # 1,200 random poses x 20 cameras: as many pairs as real
            "augment.gan.warmup=1",
            "augment.gan.batch_size=256",
            "augment.gan.gen_width=128",
            "augment.gan.d3_width=128",
            "augment.gan.d2_width=128",
            f"augment.monitor_every={(epochs or 8) + 2}",  # the last epoch's generated poses
        ]
    out = common + ["data.dataset=h36m"]
    if epochs is not None:
        out += [f"train.epochs={epochs}", "train.tail_epochs=0"]
    return out


def run_demo(
    out_dir: str = "runs/demo",
    data_dir: str | None = None,
    cross: list[str] | None = None,
    epochs: int | None = None,
    models=None,
    augments=None,
    device: str = "auto",
    progress: bool = True,
    force: bool = False,
) -> dict:
    """Train every ``model`` with every augmentation of ``augments`` on the same data; returns
    {"<model>_<augmentation>": results} and writes the comparison to ``out_dir`` (the runs of an earlier
    demo there are replaced only with ``force``)."""
    out = Path(out_dir)
    models, augments = list(models or DEFAULT_MODELS), list(augments or DEFAULT_AUGMENTS)
    if data_dir is None:
        print(
            "dhaug demo: built-in SYNTHETIC data (procedural motions, not real people) - "
            "point --data-dir at Human3.6M npz files for the real protocol",
            flush=True,
        )
    else:
        print(
            f"dhaug demo: real protocol on {data_dir} (this takes hours on a CPU; --epochs N shortens it)", flush=True
        )
    updates = {"data": {"data_dir": data_dir, "cross_sets": list(cross or [])}} if data_dir else None
    cfgs = [
        load_config(None, demo_overrides(m, a, out, data_dir, epochs, device), updates)
        for m in models
        for a in augments
    ]
    data = load_experiment_data(cfgs[0].data)  # every run trains on the same data
    print(
        f"data: {data.description}; {len(data.train)} training pairs; test sets: "
        + ", ".join(f"{k} ({len(v)} pairs)" for k, v in data.tests.items()),
        flush=True,
    )
    table = {}
    for cfg in cfgs:
        label = f"{cfg.model.name}_{cfg.augment.method}"
        print(f"\n=== {cfg.model.name}, augmentation {cfg.augment.method} ===", flush=True)
        table[label] = train(cfg, data=data, progress=progress, force=force)
    summary = write_summary(table, out, data.description, synthetic=data_dir is None)
    print("\n" + summary, flush=True)
    print(
        f"pictures and tables: {out}/summary.png, {out}/summary.md, {out}/<model>_<augmentation>/ "
        "(per_action.png, curves.png, examples_*.png, results.md; dhaug runs: gan/ with generated poses)"
    )
    return table


def reading(table: dict[str, dict], synthetic: bool) -> str:
    """One sentence on what the numbers show: each augmented run's change of MPJPE against the same
    model without augmentation, on the in-domain and on the other test sets (computed, not written in)."""
    sets = list(next(iter(table.values())))
    parts = []
    for label, res in table.items():
        model, _, aug = label.partition("_")
        base = table.get(f"{model}_none")
        if aug == "none" or base is None:
            continue
        change = [100 * (res[s]["frame_mean"]["mpjpe"] / base[s]["frame_mean"]["mpjpe"] - 1) for s in sets]
        parts.append(
            f"{aug} changes {model}'s error by " + ", ".join(f"{c:+.0f} % on {s}" for c, s in zip(change, sets))
        )
    if not parts:
        return ""
    what = (
        "These are SYNTHETIC data (procedural people and cameras): they show the pipeline at work, not "
        "accuracy on real people."
        if synthetic
        else "Last-epoch numbers, one seed."
    )
    return "Against no augmentation, " + "; ".join(parts) + ". " + what


def write_summary(table: dict[str, dict], out: Path, description: str, synthetic: bool = True) -> str:
    sets = list(next(iter(table.values())))
    lines = [
        f"# dhaug demo: {description}",
        "",
        "Last-epoch numbers, frame-weighted means.",
        "",
        "| run (model_augmentation) | " + " | ".join(f"{s} MPJPE | {s} P-MPJPE" for s in sets) + " |",
        "|---|" + "---|---|" * len(sets),
    ]
    for model, res in table.items():
        lines.append(
            f"| {model} | "
            + " | ".join(f"{res[s]['frame_mean']['mpjpe']:.1f} | {res[s]['frame_mean']['p_mpjpe']:.1f}" for s in sets)
            + " |"
        )
    sentence = reading(table, synthetic)
    text = "\n".join(lines + ([""] + [sentence] if sentence else [])) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text(text)
    (out / "summary.json").write_text(
        json.dumps(
            {"runs": {m: {s: r[s]["frame_mean"] for s in sets} for m, r in table.items()}, "reading": sentence},
            indent=2,
        )
    )
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

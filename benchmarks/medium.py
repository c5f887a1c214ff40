"""``medium`` CPU protocol: results at convergence on all five training subjects, one run at a time,
accumulated into one table over as many sittings as it takes.

* training: S1,S5,S6,S7,S8 with GT 2D, every 10th frame (146,724 pairs), settings of
  configs/medium_<model>.yaml (VideoPose-1f: 11 epochs at lr 1e-3 with linear decay, then a
  5-epoch tail from lr/12 halved every epoch, batch 1024, Adam, the short trailing batch of each pass
  skipped, bf16 autocast where the CPU has native bf16);
* test: **all** frames of S9+S11 (519,852 pairs), and the cross-dataset sets, with flip test:
  ``cmu_val`` — the CMU subject-02 clips of cmu_test.npz (10 clips, 10,249 frames): the declared
  **validation** split, the only cross-dataset numbers any default was chosen on; ``cmu_heldout`` —
  the other 36 clips (motions of other CMU subjects, 29,462 frames): a test set, never used for a
  choice; and ``cmu_test`` — the whole file, for comparison with earlier tables.

Variants (``--variants``): ``none``; ``random`` (random DH poses, the paper's "normal" limits, our zoom
30-100 deg, mixed into the real batches); ``random-paper`` (the paper's "normal" mode: the training
cameras, a synthetic pass of its own each epoch); ``dhaug`` (our defaults: zoom, data-driven limits,
mixed batches); ``dhaug-paper`` (the paper's: training cameras, its GAN limits, separate passes);
``poseaug``; ``dhaug-video`` for multi-frame configs, where ``random`` draws smooth random DH sequences
(the video baseline). Other settings get their own rows with ``--tag``, e.g. the separate passes of the
paper with our other defaults: ``--variants dhaug --tag separate train.synthetic_batches=separate``.

Each run trains into ``--out/<model>_<variant>_s<seed>`` (``--resume`` continues a killed run exactly)
and, when done, leaves its summary in ``benchmarks/results/medium_runs/<model>_<variant>_s<seed>.json``
(metrics, per-epoch curves, commit, precision, wall time). A run whose summary exists is skipped —
nothing made earlier is overwritten. The table ``benchmarks/results/medium.md`` (+ JSON, curves PNG)
is rebuilt from all summaries after every run, or alone with ``--table``.

Run from the repository root:
    python benchmarks/medium.py --models videopose --variants none dhaug --seeds 0 1 [--no-progress]
    python benchmarks/medium.py --variants dhaug --tag gb256 augment.gan.batch_size=256   # other settings: own rows
    python benchmarks/medium.py --table
    python benchmarks/medium.py --split val --variants none poseaug   # the validation split, for choosing settings
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import RESULTS, SHARED, machine, require, write

from dhaug.files import atomic_write

#: The two splits: ``test`` — the protocol above, whose rows are reported; ``val`` — for choosing settings
#: (issue 27): train on S1,S5,S6,S7, score on all of S8 (the set is still named ``h36m``) and ``cmu_val``;
#: S9, S11 and ``cmu_heldout`` are never looked at. Each split has its own summaries and table.
SPLITS = {
    "test": {
        "runs": RESULTS / "medium_runs",
        "table": "medium",
        "overrides": [],
        "cmu_parts": ("cmu_val", "cmu_heldout", "cmu_heldout_other"),
        "whole_cmu": True,
        "h36m": "Human3.6M S9+S11",
        "title": "# medium protocol: S1,S5,S6,S7,S8 (every 10th frame, GT 2D) -> all of S9+S11 and CMU",
        "intro": None,
    },
    "val": {
        "runs": RESULTS / "medium_val_runs",
        "table": "medium_val",
        "overrides": ["data.train_subjects=[S1,S5,S6,S7]", "data.test_subjects=[S8]"],
        "cmu_parts": ("cmu_val", "cmu_val_other"),
        "whole_cmu": False,
        "h36m": "Human3.6M S8 (validation)",
        "title": "# medium protocol, validation split: S1,S5,S6,S7 (every 10th frame, GT 2D) -> all of S8 "
        "(column h36m) and cmu_val — for choosing settings; S9, S11 and cmu_heldout are not used",
        "intro": "* training: S1,S5,S6,S7 with GT 2D, every 10th frame (120,796 pairs), the settings of "
        "configs/medium_<model>.yaml (the medium schedule);\n* validation: **all** frames of S8 (column `h36m`) and "
        "`cmu_val` (the CMU subject-02 clips of cmu_test.npz, with flip test). Rows here choose settings; the "
        "reported rows (`medium.md`) are never used for a choice.",
    },
}
RUNS = SPLITS["test"]["runs"]
REPO = Path(__file__).resolve().parents[1]

VARIANTS = {
    "none": ["augment.method=none"],
    "random": ["augment.method=random"],
    "random-paper": ["augment.method=random", "augment.fov_range_deg=null", "train.synthetic_batches=separate"],
    "dhaug": ["augment.method=dhaug"],
    "dhaug-paper": [
        "augment.method=dhaug",
        "augment.fov_range_deg=null",
        "augment.limits=gan",
        "train.synthetic_batches=separate",
    ],
    "dhaug-video": ["augment.method=dhaug-video"],
    "poseaug": ["augment.method=poseaug"],
    #: PoseAug at its best on the validation split (issue 27, docs/results.md): a pass over its pairs, then a
    #: real-only pass, as its release; the reported PoseAug rows from 2026-12-06 on.
    "poseaug-sep": ["augment.method=poseaug", "train.synthetic_batches=separate"],
}
#: Cross-dataset sets of the protocol: (name, which clips of cmu_test.npz, role).
CMU_PARTS = (("cmu_val", "amc", "validation"), ("cmu_heldout", "dmgnn", "test"))
#: Each part is also written with other people's skeletons (``<name>_other``): per clip, every bone group
#: of its median skeleton scaled by ``s (1 + U[-OTHER_GROUP, OTHER_GROUP))`` with a stature factor ``s`` in
#: ``1 + U[-OTHER_STATURE, OTHER_STATURE)`` (seed 0); bone directions, pelvis paths and cameras kept.
OTHER_GROUP, OTHER_STATURE = 0.2, 0.15


def other_skeletons(part: dict, seed: int = 0) -> dict:
    """``part`` (a cmu_test.npz-format dict: camera-frame mm 3D, pinhole ``cam_intrinsics`` fx, fy, cx, cy
    in pixels, ``res``) with every clip's person given other bone proportions (:data:`OTHER_GROUP`,
    :data:`OTHER_STATURE`), re-projected by the same cameras. All camera views of a clip share a person."""
    import torch

    from dhaug.augment.common import BONE_GROUPS, swap_bones
    from dhaug.skeleton import bone_lengths

    rng = np.random.default_rng(seed)
    clips = np.array([json.loads(str(m))["clip"] for m in part["seq_names"]])[part["seq"]]
    pose = torch.as_tensor(part["pose3d"], dtype=torch.float64)
    root = pose[:, :1]
    lengths = bone_lengths(pose - root)
    for clip in sorted(set(clips)):
        rows = torch.as_tensor(np.flatnonzero(clips == clip))
        factor = np.full(15, 1 + rng.uniform(-OTHER_STATURE, OTHER_STATURE))
        for bones in BONE_GROUPS.values():
            factor[list(bones)] *= 1 + rng.uniform(-OTHER_GROUP, OTHER_GROUP)
        lengths[rows] = lengths[rows].median(0).values * torch.as_tensor(factor)
    new = (swap_bones(pose - root, lengths) + root).numpy()
    K, res = part["cam_intrinsics"].astype(np.float64), part["res"].astype(np.float64)
    px = new[..., :2] / new[..., 2:] * K[:, None, :2] + K[:, None, 2:]
    w, h = res[:, None, :1], res[:, None, 1:]
    screen = np.concatenate([px[..., :1] / w * 2 - 1, px[..., 1:] / w * 2 - h / w], -1)
    return {
        **part,
        "pose3d": new.astype(np.float32),
        "pose2d_px": px.astype(np.float32),
        "pose2d": screen.astype(np.float32),
    }


def cmu_parts(cmu: Path, folder: Path) -> dict[str, Path]:
    """Write the validation and held-out parts of ``cmu`` (rows of its CMU subject-02 AMC clips, and of
    the others) into ``folder`` once, each also with other skeletons (:func:`other_skeletons`); same
    format, same ``seq_names``. Returns their paths by name."""
    out = {}
    d = dict(np.load(cmu, allow_pickle=False))
    source = np.array([json.loads(str(s))["source"] for s in d["seq_names"]])
    n = len(d["pose3d"])
    for name, src, _ in CMU_PARTS:
        keep = source[d["seq"]] == src
        part = {k: (v[keep] if v.ndim and len(v) == n else v) for k, v in d.items()}
        for label, arrays in ((name, lambda: part), (f"{name}_other", lambda: other_skeletons(part))):
            path = out[label] = folder / f"{label}.npz"
            if not path.is_file():
                made = arrays()
                atomic_write(path, lambda fh: np.savez(fh, **made))
    return out


def commit() -> str:
    """The checked-out commit, ``-dirty`` when tracked code differs from it (this benchmark's own result files
    under benchmarks/results/ do not count: the table it rebuilds after every run would mark the next row)."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results"],
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout.strip()
    return head + ("-dirty" if changed else "")


def epochs_done(run_dir: Path) -> int:
    """Epochs already saved in ``run_dir``'s checkpoint (0 when the run starts afresh)."""
    from dhaug import checkpoint

    ckpt = run_dir / "checkpoint.pt"
    return int(checkpoint.load(ckpt)["epoch"]) if ckpt.is_file() else 0


def summarise(run_dir: Path, label: str, variant: str, wall_s: float, code: str, resumed_after: int = 0) -> dict:
    """The row of one finished run; ``code``: the commit the run was started from (``git describe --dirty``);
    ``wall_s``: this process's time — a run resumed after ``resumed_after`` epochs adds those epochs' seconds
    (the time of the killed process outside its epochs is not known and not counted)."""
    res = json.loads((run_dir / "results.json").read_text())
    hist = res.get("history", [])
    wall_s += sum(h["seconds"] for h in hist[:resumed_after])
    return {
        "label": label,
        "variant": variant,
        "model": res["config"]["model"]["name"],
        "frames": res["config"]["model"]["frames"],
        "seed": res["config"]["train"]["seed"],
        "precision": res.get("precision"),
        "synthetic_batches": res.get("synthetic_batches"),
        "commit": code,
        "machine": machine(),
        "wall_s": wall_s,
        "resumed_after_epoch": resumed_after or None,
        "train_s": sum(h["seconds"] for h in hist),
        "train_pairs": res.get("train_pairs"),
        "results": {
            k: {
                "frame_mean": v["frame_mean"],
                "action_mean": v["action_mean"],
                "sequence_mean": v.get("sequence_mean"),
                "flip_test": v["flip_test"],
                "count": v.get("count"),
            }
            for k, v in res["results"].items()
        },
        "curves": [
            {
                k: v
                for k, v in h.items()
                if k == "epoch"
                or k.startswith("eval/")
                or k in ("lr", "train_loss", "grad_norm_max", "grad_norm_mean", "fake_loss", "seconds")
            }
            for h in hist
        ],
        "config": res["config"],
    }


METRICS = (("mpjpe", "MPJPE"), ("p_mpjpe", "P-MPJPE"), ("pck", "PCK"), ("auc", "AUC"))


def table(split: str = "test") -> None:
    """medium[_val].md / .json / _curves.png from every summary of the split's runs folder."""
    sp = SPLITS[split]
    runs = [json.loads(p.read_text()) for p in sorted(sp["runs"].glob("*.json"))]
    if not runs:
        print(f"no finished runs in {sp['runs']}")
        return
    sets = list(dict.fromkeys(k for r in runs for k in r["results"]))
    md = [
        sp["title"],
        "",
        sp["intro"] or __doc__.split("\n\n")[1].strip(),
        "",
        "## Mean ± half-range over seeds (frame-weighted MPJPE / P-MPJPE, mm)",
        "",
        "| model | variant | seeds | " + " | ".join(sets) + " | wall per run (min) |",
        "|---|---|---|" + "---|" * len(sets) + "---|",
    ]
    groups: dict[tuple, list] = {}
    for r in runs:
        groups.setdefault((r["model"], r["frames"], r["variant"]), []).append(r)
    for (model, frames, variant), rs in groups.items():
        cells = []
        for s in sets:
            have = [r for r in rs if s in r["results"]]
            if not have:
                cells.append("")
                continue
            m = mpjpes(have, s)
            p = np.array([r["results"][s]["frame_mean"]["p_mpjpe"] for r in have])
            only = "" if len(have) == len(rs) else f" (s{','.join(str(r['seed']) for r in have)})"
            cells.append(f"{m.mean():.1f} ± {np.ptp(m) / 2:.1f} / {p.mean():.1f}{only}")
        md.append(
            f"| {model}{'' if frames == 1 else f' {frames}f'} | {variant} | {','.join(str(r['seed']) for r in rs)} | "
            + " | ".join(cells)
            + f" | {np.mean([r['wall_s'] for r in rs]) / 60:.0f} |"
        )
    md += [
        "",
        "## Every run",
        "",
        "| run | test set | "
        + " | ".join(m for _, m in METRICS)
        + " | action-mean MPJPE | epochs | precision | commit | CPU | train (min) | wall (min) |",
        "|---|---|" + "---|" * (len(METRICS) + 7),
    ]
    for r in runs:
        for s, v in r["results"].items():
            fm = v["frame_mean"]
            md.append(
                f"| {r['label']} | {s}{' (flip)' if v['flip_test'] else ''} | "
                + " | ".join(f"{fm[k]:.2f}" for k, _ in METRICS)
                + f" | {v['action_mean']['mpjpe']:.2f} | {r['config']['train']['epochs'] + r['config']['train']['tail_epochs']} | "
                f"{r['precision']} | {r['commit']} | {r['machine'].get('cpu') or 'not recorded'} | {r['train_s'] / 60:.1f} | "
                f"{r['wall_s'] / 60:.1f}{' (resumed)' if r.get('resumed_after_epoch') else ''} |"
            )
    md += [
        "",
        "## Convergence (H36M MPJPE on every k-th test frame after each epoch, mm)",
        "",
        "Curves: `medium_curves.png`. *Last 20 %*: the largest change of the curve over the last fifth of the "
        "epochs (the protocol asks < 1 mm for `none`). *k*: the run's `train.curve_every`.",
        "",
        "| run | epochs | k | first | min | last | last 20 % | max gradient norm |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        c = pose_epochs(r)
        if not c:
            continue
        e = np.array([h["eval/h36m"] for h in c])
        tail = e[-max(2, int(np.ceil(0.2 * len(e)))) :]
        md.append(
            f"| {r['label']} | {len(e)} | {r['config']['train']['curve_every']} | {e[0]:.1f} | {e.min():.1f} | {e[-1]:.1f} | {np.ptp(tail):.2f} | "
            f"{max(h['grad_norm_max'] for h in c):.2f} |"
        )
    md += comparisons(runs, sets)
    md += [
        "",
        "Frame-weighted means count every test pose once; numbers are from the last epoch (no model "
        "selection). PCK@150 mm and AUC in %.",
        "",
    ]
    old = RESULTS / f"{sp['table']}.md"
    notes = old.read_text().split("\n## Notes\n", 1) if old.is_file() else []
    if len(notes) == 2:
        md += ["## Notes", notes[1].rstrip("\n"), ""]
    write(sp["table"], {"runs": runs}, "\n".join(md))
    plot_curves(runs, RESULTS / f"{sp['table']}_curves.png")
    plot_bars(runs, RESULTS / f"{sp['table']}_bars.png", sp["h36m"])


#: The variants of the wide table (issue 27), in the order of the bars.
BAR_VARIANTS = ("none", "random", "poseaug", "poseaug-sep", "dhaug")


def mpjpes(runs: list[dict], s: str) -> np.ndarray:
    """The frame-weighted MPJPE on set ``s`` of each run that scored it."""
    return np.array([r["results"][s]["frame_mean"]["mpjpe"] for r in runs if s in r["results"]])


def comparisons(runs: list[dict], sets: list[str]) -> list[str]:
    """Markdown: per backbone, ``dhaug``'s mean MPJPE minus each other variant of :data:`BAR_VARIANTS` on every
    set but the whole cmu_test, beside both half-ranges over seeds. *Beyond the spread*: every DH-AUG seed lies
    below (``lower``) or above (``higher``) every seed of the other row; ``overlap`` otherwise; one seed on
    either side cannot say (``1 seed``)."""
    sets = [s for s in sets if s != "cmu_test"]
    md = [
        "",
        "## DH-AUG against the other variants, per backbone (MPJPE, mm)",
        "",
        "Each cell: DH-AUG's mean minus the other row's, then both half-ranges over seeds (DH-AUG's first) and "
        "whether the seeds separate: *lower* / *higher* — every DH-AUG seed below / above every seed of the "
        "other row; *overlap* — they do not separate; *1 seed* — too few to say.",
        "",
        "| backbone | DH-AUG vs | seeds | " + " | ".join(sets) + " |",
        "|---|---|---|" + "---|" * len(sets),
    ]
    rows = 0
    for b in dict.fromkeys((r["model"], r["frames"]) for r in runs):
        per = {v: [r for r in runs if (r["model"], r["frames"]) == b and r["variant"] == v] for v in BAR_VARIANTS}
        for other in BAR_VARIANTS[:-1]:
            if not per["dhaug"] or not per[other]:
                continue
            cells = []
            for s in sets:
                a, o = mpjpes(per["dhaug"], s), mpjpes(per[other], s)
                if not len(a) or not len(o):
                    cells.append("")
                    continue
                if min(len(a), len(o)) < 2:
                    verdict = "1 seed"
                else:
                    verdict = "lower" if a.max() < o.min() else "higher" if a.min() > o.max() else "overlap"
                cells.append(f"{a.mean() - o.mean():+.1f} (±{np.ptp(a) / 2:.1f}, ±{np.ptp(o) / 2:.1f}) {verdict}")
            name = b[0] if b[1] == 1 else f"{b[0]} {b[1]}f"
            seeds = f"{len(per['dhaug'])} vs {len(per[other])}"
            md.append(f"| {name} | {other} | {seeds} | " + " | ".join(cells) + " |")
            rows += 1
    return md if rows else []


def plot_bars(runs: list[dict], path: Path, h36m: str) -> None:
    """Grouped bars, one panel per set (H36M and the cross-dataset test set): one group per backbone, one bar
    per variant of :data:`BAR_VARIANTS` at the mean over seeds, error bars the half-range, each seed a dot;
    ``h36m`` names the Human3.6M subjects the split tests on."""
    from matplotlib.figure import Figure

    sets = [s for s in ("h36m", "cmu_heldout", "cmu_val") if any(s in r["results"] for r in runs)][:2]
    runs = [r for r in runs if r["variant"] in BAR_VARIANTS]
    backbones = list(dict.fromkeys((r["model"], r["frames"]) for r in runs))
    if not sets or not backbones:
        return
    width = 0.8 / len(BAR_VARIANTS)
    fig = Figure(figsize=(max(7.0, 1.0 + 2.0 * len(backbones) * len(sets)), 4.2))
    fig.suptitle(
        "MPJPE (mm) at the last epoch: bar = mean over seeds, dots = seeds, error bar = half-range", fontsize=9
    )
    for i, s in enumerate(sets):
        ax = fig.add_subplot(1, len(sets), i + 1)
        for j, v in enumerate(BAR_VARIANTS):
            for k, b in enumerate(backbones):
                m = mpjpes([r for r in runs if (r["model"], r["frames"]) == b and r["variant"] == v], s)
                if not len(m):
                    continue
                x = k - 0.4 + width * (j + 0.5)
                labelled = v in ax.get_legend_handles_labels()[1]
                ax.bar(
                    x,
                    np.mean(m),
                    width * 0.9,
                    yerr=np.ptp(m) / 2,
                    capsize=3,
                    color=f"C{j}",
                    label=None if labelled else v,
                )
                ax.plot(np.full(len(m), x), m, "k.", ms=4)
        ax.set_xticks(np.arange(len(backbones)), [m if f == 1 else f"{m} {f}f" for m, f in backbones])
        ax.set_title(h36m if s == "h36m" else s, fontsize=10)
        ax.set_ylabel("MPJPE (mm)")
        ax.grid(axis="y", alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def pose_epochs(run: dict) -> list[dict]:
    """The per-epoch records of a run's pose-net epochs (the GAN-only warm-up left out) with test curves."""
    return [h for h in run["curves"] if "eval/h36m" in h and h.get("lr", 0) > 0 and "grad_norm_max" in h]


def plot_curves(runs: list[dict], path: Path) -> None:
    """Per-epoch test curves, one panel per set: one colour per model + variant (tab20: distinct), one line
    style per seed; the y-range is set by the epochs after the first three (earlier points and spikes above it
    are drawn as triangles on the top edge); the legend sits below the panels."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    names = [
        k for k in ("eval/h36m", "eval/cmu_val", "eval/cmu_heldout") if any(k in h for r in runs for h in r["curves"])
    ]
    families = sorted({(r["model"], r["variant"]) for r in runs})
    tab = colormaps["tab20"]
    colour = {f: tab(j % 20) for j, f in enumerate(families)}
    styles = ("o-", "s--", "^:", "d-.")
    fig = Figure(figsize=(5 * len(names), 4 + 0.18 * len(runs) / 2))
    handles = []
    for i, k in enumerate(names):
        ax = fig.add_subplot(1, len(names), i + 1)
        settled = [h[k] for r in runs for h in pose_epochs(r)[3:] if k in h]
        top = float(np.max(settled)) * 1.08 if settled else None
        for r in runs:
            c = [h[k] for h in pose_epochs(r) if k in h]
            x = np.arange(1, len(c) + 1)
            (line,) = ax.plot(
                x,
                np.minimum(c, top) if top else c,
                styles[r["seed"] % len(styles)],
                ms=3,
                color=colour[(r["model"], r["variant"])],
                label=r["label"],
            )
            if top:
                over = np.asarray(c) > top
                ax.plot(x[over], np.full(over.sum(), top), "^", ms=6, color=line.get_color())
            if i == 0:
                handles.append(line)
        if top:
            ax.set_ylim(top=top)
        ax.set_title(k.split("/")[1] + " (every 10th frame; triangles: above the range)", fontsize=9)
        ax.set_xlabel("pose-net epoch")
        ax.set_ylabel("MPJPE (mm)")
        ax.grid(alpha=0.3)
    rows = (len(handles) + 3) // 4
    fig.legend(handles, [h.get_label() for h in handles], loc="lower center", ncol=4, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.045 * rows + 0.02, 1, 1))
    fig.savefig(path, dpi=100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["videopose"], help="configs/medium_<model>.yaml")
    ap.add_argument("--variants", nargs="+", default=["none", "dhaug"], choices=sorted(VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--out", default="runs/medium")
    ap.add_argument("--data-dir", help="Human3.6M npz folder (default ../shared/data/h36m)")
    ap.add_argument("--cmu", help="cmu_test.npz (default ../shared/data/cmu/cmu_test.npz)")
    ap.add_argument("--no-progress", action="store_true", help="plain lines instead of progress bars")
    ap.add_argument("--table", action="store_true", help="only rebuild the table from finished runs")
    ap.add_argument(
        "--split",
        choices=sorted(SPLITS),
        default="test",
        help="test: the reported protocol (default); val: S1,S5,S6,S7 -> S8 and cmu_val, for choosing settings",
    )
    ap.add_argument(
        "--tag",
        help="a name for the settings the overrides make: rows are labelled "
        "<model>_<variant>-<tag>_s<seed> (required with overrides)",
    )
    ap.add_argument("overrides", nargs="*", help="config overrides for every run, key=value")
    a = ap.parse_args()
    if a.tag is not None and not re.fullmatch(r"[A-Za-z0-9.]+", a.tag):
        ap.error(f"--tag {a.tag!r}: letters, digits and dots only (it becomes part of file names)")
    if a.overrides and not a.tag:
        ap.error(
            f"overrides {a.overrides} change the protocol's settings: name them with --tag, so their rows are "
            "not filed (or skipped) as the protocol's own variants"
        )
    sp = SPLITS[a.split]
    if a.table:
        table(a.split)
        return
    from dhaug.config import load_config
    from dhaug.data import load_experiment_data
    from dhaug.train import train

    data_dir = Path(a.data_dir) if a.data_dir else SHARED / "h36m"
    cmu = Path(a.cmu) if a.cmu else SHARED / "cmu" / "cmu_test.npz"
    require(data_dir / "data_3d_h36m.npz")
    require(cmu)
    parts = cmu_parts(cmu, Path(a.out) / "data")
    cross = [parts[n] for n in sp["cmu_parts"]] + ([cmu] if sp["whole_cmu"] else [])
    data = None
    for model in a.models:
        for variant in a.variants:
            for seed in a.seeds:
                name = f"{variant}-{a.tag}" if a.tag else variant
                label = f"{model}_{name}_s{seed}"
                summary = sp["runs"] / f"{label}.json"
                if summary.is_file():
                    print(f"{label}: done already ({summary}); skipped")
                    continue
                run_dir = Path(a.out) / (label if a.split == "test" else f"{a.split}_{label}")
                cfg = load_config(
                    REPO / "configs" / f"medium_{model}.yaml",
                    [f"data.data_dir={data_dir}", "data.cross_sets=[" + ",".join(map(str, cross)) + "]"]
                    + sp["overrides"]
                    + VARIANTS[variant]
                    + [f"train.seed={seed}"]
                    + a.overrides
                    + [f"out_dir={run_dir}", f"name={label}"],
                )
                if data is None:
                    data = load_experiment_data(cfg.data, full_rate_tests=cfg.model.frames > 1)
                print(f"{label}: training into {run_dir}", flush=True)
                t0, code, done = time.time(), commit(), epochs_done(run_dir)  # the code this run starts from
                train(cfg, resume=True, data=data, progress=not a.no_progress and sys.stderr.isatty())
                sp["runs"].mkdir(parents=True, exist_ok=True)
                row = summarise(run_dir, label, name, time.time() - t0, code, resumed_after=done)
                row["overrides"] = a.overrides
                row = json.dumps(row, indent=1)
                atomic_write(summary, lambda fh: fh.write(row.encode()))
                table(a.split)


if __name__ == "__main__":
    main()

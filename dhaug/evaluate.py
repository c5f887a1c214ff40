"""Evaluation: predictions over whole pose sets, metrics per action, JSON + markdown reports."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .data.poseset import PoseSet
from .metrics import METRICS, pose_metrics, summarize
from .progress import progress_bar
from .skeleton import mirror_pose

METRIC_LABELS = {"mpjpe": "MPJPE (mm)", "p_mpjpe": "P-MPJPE (mm)", "pck": "PCK@150 (%)", "auc": "AUC (%)"}


@torch.no_grad()
def predict(model: nn.Module, pose2d: torch.Tensor, batch_size: int = 8192, flip_test: bool = False,
            windows: torch.Tensor | None = None, progress: str | None = None) -> torch.Tensor:
    """Run ``model`` in eval mode over (N, J, 2) inputs in batches; optional flip averaging.
    ``windows`` (M, T) row indices: multi-frame input ``pose2d[windows]`` gathered batch by batch.
    ``progress``: a label for a progress display over the batches (None: silent)."""
    was_training = model.training
    model.eval()
    outs = []
    n = len(pose2d) if windows is None else len(windows)
    starts = range(0, n, batch_size)
    if progress is not None:
        starts = progress_bar(starts, desc=progress, unit="batch")
    for i in starts:
        x = pose2d[i:i + batch_size] if windows is None else pose2d[windows[i:i + batch_size]]
        y = model(x)
        if flip_test:
            y = 0.5 * (y + mirror_pose(model(mirror_pose(x))))
        outs.append(y)
    model.train(was_training)
    return torch.cat(outs) if outs else torch.zeros(0, pose2d.shape[-2], 3, device=pose2d.device)


def evaluate_set(model: nn.Module, data: PoseSet, device, batch_size: int = 8192, flip_test: bool = False,
                 frames: int = 1, step: int = 1, every: int = 1, metrics: tuple[str, ...] = METRICS,
                 progress: bool = False) -> dict:
    """Metrics of ``model`` on one set: per action, frame-weighted and action-averaged means.

    Multi-frame models (``frames`` > 1) see windows of ``frames`` frames, ``step`` frames apart, around
    each evaluated row (edge-replicated inside its sequence; a frame missing from a sequence is
    replaced by its nearest kept frame); ``every``: evaluate only rows whose frame index is a multiple
    of it (the windows still read the neighbouring frames); ``metrics``: which of :data:`~dhaug.metrics.METRICS`;
    ``progress``: a progress display over the batches."""
    from .data.windows import centre_rows, window_rows

    x, y = data.tensors(device)
    centres = centre_rows(data, every)
    windows = None
    if frames > 1:
        windows = torch.as_tensor(window_rows(data.seq, frames, step, centres, data.name, data.frame), device=device)
    elif every > 1:
        x = x[torch.as_tensor(centres, device=device)]
    y = y[torch.as_tensor(centres, device=device)]
    label = f"evaluate {data.name} ({len(centres):,} poses)" if progress else None
    pred = predict(model, x, batch_size, flip_test, windows, label)
    per_pose = {}
    for i in range(0, len(pred), 65536):  # chunks keep the SVDs' memory small
        m = pose_metrics(pred[i:i + 65536], y[i:i + 65536], metrics)
        for k, v in m.items():
            per_pose.setdefault(k, []).append(v.cpu().numpy())
    per_pose = {k: np.concatenate(v) for k, v in per_pose.items()}
    out = summarize(per_pose, data.action[centres], data.action_names, data.seq[centres] if frames > 1 else None)
    out["flip_test"] = flip_test
    if frames > 1:
        out["window"] = {"frames": frames, "step": step, "fps": data.fps / step}
    out["name"] = data.name
    return out


def evaluate_all(model: nn.Module, tests: dict[str, PoseSet], cross: list[str], device,
                 batch_size: int = 8192, cross_flip_test: bool = True, frames: int = 1,
                 train_fps: float | None = None, every: dict[str, int] | None = None,
                 progress: bool = False) -> dict[str, dict]:
    """Every test set. Multi-frame models: windows of consecutive frames (the paper's protocol) and,
    given ``train_fps``, also windows at the training frame rate (``NAME_train_rate``, the consistent
    protocol). ``every``: per set, evaluate every k-th frame only; ``progress``: a display per set."""
    from .data.windows import step_for_rate

    out = {}
    for name, s in tests.items():
        flip, k = cross_flip_test and name in cross, (every or {}).get(name, 1)
        out[name] = evaluate_set(model, s, device, batch_size, flip, frames, 1, k, progress=progress)
        if frames > 1 and train_fps:
            step = step_for_rate(s, train_fps)
            if step > 1:
                out[f"{name}_train_rate"] = evaluate_set(model, s, device, batch_size, flip, frames, step, k,
                                                         progress=progress)
    return out


def results_markdown(results: dict[str, dict], title: str = "Results") -> str:
    """Markdown: one summary table (every set), then a per-action table for every set."""
    lines = [f"# {title}", "",
             "`frame mean` weights every test pose equally (the usual H36M number); "
             "`action mean` averages the per-action means (every action weight 1); multi-frame models also "
             "get `sequence mean` (every sequence weight 1, the paper's average for video VideoPose3D).", "",
             "| test set | mean | frames | " + " | ".join(METRIC_LABELS.values()) + " |",
             "|---|---|---|" + "---|" * len(METRIC_LABELS)]
    for name, r in results.items():
        for kind in ("frame_mean", "action_mean", "sequence_mean"):
            if kind not in r:
                continue
            row = r[kind]
            lines.append(f"| {name}{' (flip test)' if r.get('flip_test') else ''} | {kind.replace('_', ' ')} | "
                         f"{r['frame_mean']['frames']} | " + " | ".join(f"{row[k]:.2f}" for k in METRIC_LABELS) + " |")
    for name, r in results.items():
        lines += ["", f"## {name}: per action", "",
                  "| action | frames | " + " | ".join(METRIC_LABELS.values()) + " |",
                  "|---|---|" + "---|" * len(METRIC_LABELS)]
        for action, row in r["per_action"].items():
            lines.append(f"| {action} | {row['frames']} | " + " | ".join(f"{row[k]:.2f}" for k in METRIC_LABELS) + " |")
    return "\n".join(lines) + "\n"


def write_results(results: dict, out_dir: str | Path, stem: str = "results", title: str = "Results",
                  extra: dict | None = None) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    js, md = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    payload = dict(extra or {})
    payload["results"] = results
    js.write_text(json.dumps(payload, indent=2))
    md.write_text(results_markdown(results, title))
    return js, md


def summary_line(results: dict[str, dict]) -> str:
    return "; ".join(f"{n}: MPJPE {r['frame_mean']['mpjpe']:.1f} mm, P-MPJPE {r['frame_mean']['p_mpjpe']:.1f} mm"
                     for n, r in results.items())


def evaluate_experiment(model: nn.Module, tests: dict[str, PoseSet], cross: list[str], cfg, device,
                        train_fps: float | None = None, every: dict[str, int] | None = None,
                        progress: bool = False) -> dict[str, dict]:
    """:func:`evaluate_all` with the batch size, flip test and window of an experiment config ``cfg``."""
    return evaluate_all(model, tests, cross, device, cfg.train.eval_batch_size, cfg.data.cross_flip_test,
                        cfg.model.frames, train_fps, every, progress)


def report(model, tests: dict[str, PoseSet], results: dict, history: list, out: Path, device, title: str,
           extra: dict) -> None:
    """Write results.json/.md and the pictures (curves, per-action errors, example skeletons)."""
    from .plots import plot_curves, plot_examples, plot_per_action

    js, md = write_results(results, out, title=title, extra=extra)
    if history:
        plot_curves(history, out / "curves.png")
    plot_per_action(results, out / "per_action.png")
    for name, s in tests.items():
        idx = np.linspace(0, len(s) - 1, 4).astype(int)
        x, y = s.tensors(device)
        frames = getattr(model, "frames", 1)
        if frames > 1:
            from .data.windows import window_rows
            pred = predict(model, x, windows=torch.as_tensor(window_rows(s.seq, frames, 1, idx, s.name, s.frame), device=device))
        else:
            pred = predict(model, x[idx])
        pred = pred.cpu().numpy()
        plot_examples(s.pose2d[idx], s.pose3d[idx], pred, out / f"examples_{name}.png", title=name)
    print(f"wrote {js}, {md} and pictures in {out}")

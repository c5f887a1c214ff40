"""Evaluation: predictions over whole pose sets, metrics per action, JSON + markdown reports, and a saved
checkpoint scored on its test sets (:func:`evaluate_checkpoint`, ``dhaug evaluate``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import checkpoint
from .config import load_config
from .data import load_cross_sets, load_experiment_data
from .data.poseset import PoseSet
from .data.windows import centre_rows, step_for_rate, window_rows
from .device import resolve_device
from .errors import ConfigError
from .files import claim_output_dir
from .metrics import METRICS, pose_metrics, summarize
from .models import build_model
from .progress import progress_bar
from .skeleton import mirror_pose

METRIC_LABELS = {"mpjpe": "MPJPE (mm)", "p_mpjpe": "P-MPJPE (mm)", "pck": "PCK@150 (%)", "auc": "AUC (%)"}


@torch.no_grad()
def predict(
    model: nn.Module,
    pose2d: torch.Tensor,
    batch_size: int = 8192,
    flip_test: bool = False,
    windows: torch.Tensor | None = None,
    progress: str | None = None,
) -> torch.Tensor:
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
        x = pose2d[i : i + batch_size] if windows is None else pose2d[windows[i : i + batch_size]]
        y = model(x)
        if flip_test:
            y = 0.5 * (y + mirror_pose(model(mirror_pose(x))))
        outs.append(y)
    model.train(was_training)
    return torch.cat(outs) if outs else torch.zeros(0, pose2d.shape[-2], 3, device=pose2d.device)


def evaluate_set(
    model: nn.Module,
    data: PoseSet,
    device,
    batch_size: int = 8192,
    flip_test: bool = False,
    frames: int = 1,
    step: int = 1,
    every: int = 1,
    metrics: tuple[str, ...] = METRICS,
    progress: bool = False,
) -> dict:
    """Metrics of ``model`` on one set: per action, frame-weighted and action-averaged means.

    Multi-frame models (``frames`` > 1) see windows of ``frames`` frames, ``step`` frames apart, around
    each evaluated row (edge-replicated inside its sequence; a frame missing from a sequence is
    replaced by its nearest kept frame); ``every``: evaluate only rows whose frame index is a multiple
    of it (the windows still read the neighbouring frames); ``metrics``: which of :data:`~dhaug.metrics.METRICS`;
    ``progress``: a progress display over the batches."""
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
        m = pose_metrics(pred[i : i + 65536], y[i : i + 65536], metrics)
        for k, v in m.items():
            per_pose.setdefault(k, []).append(v.cpu().numpy())
    per_pose = {k: np.concatenate(v) for k, v in per_pose.items()}
    out = summarize(per_pose, data.action[centres], data.action_names, data.seq[centres] if frames > 1 else None)
    out["flip_test"] = flip_test
    if frames > 1:
        out["window"] = {"frames": frames, "step": step, "fps": data.fps / step}
    out["name"] = data.name
    return out


def evaluate_all(
    model: nn.Module,
    tests: dict[str, PoseSet],
    cross: list[str],
    device,
    batch_size: int = 8192,
    cross_flip_test: bool = True,
    frames: int = 1,
    train_fps: float | None = None,
    every: dict[str, int] | None = None,
    progress: bool = False,
) -> dict[str, dict]:
    """Every test set. Multi-frame models: windows of consecutive frames (the paper's protocol) and,
    given ``train_fps``, also windows at the training frame rate (``NAME_train_rate``, the consistent
    protocol). ``every``: per set, evaluate every k-th frame only; ``progress``: a display per set."""
    out = {}
    for name, s in tests.items():
        flip, k = cross_flip_test and name in cross, (every or {}).get(name, 1)
        out[name] = evaluate_set(model, s, device, batch_size, flip, frames, 1, k, progress=progress)
        if frames > 1 and train_fps:
            step = step_for_rate(s, train_fps)
            if step > 1:
                out[f"{name}_train_rate"] = evaluate_set(
                    model, s, device, batch_size, flip, frames, step, k, progress=progress
                )
    return out


def results_markdown(results: dict[str, dict], title: str = "Results") -> str:
    """Markdown: one summary table (every set), then a per-action table for every set."""
    lines = [
        f"# {title}",
        "",
        "`frame mean` weights every test pose equally (the usual H36M number); "
        "`action mean` averages the per-action means (every action weight 1); multi-frame models also "
        "get `sequence mean` (every sequence weight 1, the paper's average for video VideoPose3D).",
        "",
        "| test set | mean | frames | " + " | ".join(METRIC_LABELS.values()) + " |",
        "|---|---|---|" + "---|" * len(METRIC_LABELS),
    ]
    for name, r in results.items():
        for kind in ("frame_mean", "action_mean", "sequence_mean"):
            if kind not in r:
                continue
            row = r[kind]
            lines.append(
                f"| {name}{' (flip test)' if r.get('flip_test') else ''} | {kind.replace('_', ' ')} | "
                f"{r['frame_mean']['frames']} | " + " | ".join(f"{row[k]:.2f}" for k in METRIC_LABELS) + " |"
            )
    for name, r in results.items():
        lines += [
            "",
            f"## {name}: per action",
            "",
            "| action | frames | " + " | ".join(METRIC_LABELS.values()) + " |",
            "|---|---|" + "---|" * len(METRIC_LABELS),
        ]
        for action, row in r["per_action"].items():
            lines.append(f"| {action} | {row['frames']} | " + " | ".join(f"{row[k]:.2f}" for k in METRIC_LABELS) + " |")
    return "\n".join(lines) + "\n"


def write_results(
    results: dict, out_dir: str | Path, stem: str = "results", title: str = "Results", extra: dict | None = None
) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    js, md = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    payload = dict(extra or {})
    payload["results"] = results
    js.write_text(json.dumps(payload, indent=2))
    md.write_text(results_markdown(results, title))
    return js, md


def summary_line(results: dict[str, dict]) -> str:
    return "; ".join(
        f"{n}: MPJPE {r['frame_mean']['mpjpe']:.1f} mm, P-MPJPE {r['frame_mean']['p_mpjpe']:.1f} mm"
        for n, r in results.items()
    )


def evaluate_experiment(
    model: nn.Module,
    tests: dict[str, PoseSet],
    cross: list[str],
    cfg,
    device,
    train_fps: float | None = None,
    every: dict[str, int] | None = None,
    progress: bool = False,
) -> dict[str, dict]:
    """:func:`evaluate_all` with the batch size, flip test and window of an experiment config ``cfg``."""
    return evaluate_all(
        model,
        tests,
        cross,
        device,
        cfg.train.eval_batch_size,
        cfg.data.cross_flip_test,
        cfg.model.frames,
        train_fps,
        every,
        progress,
    )


def report(
    model, tests: dict[str, PoseSet], results: dict, history: list, out: Path, device, title: str, extra: dict
) -> None:
    """Write results.json/.md and the pictures (curves, per-action errors, example skeletons)."""
    from .plots import plot_curves, plot_examples, plot_per_action  # late: matplotlib is slow to import

    js, md = write_results(results, out, title=title, extra=extra)
    if history:
        plot_curves(history, out / "curves.png")
    plot_per_action(results, out / "per_action.png")
    for name, s in tests.items():
        idx = np.linspace(0, len(s) - 1, 4).astype(int)
        x, y = s.tensors(device)
        frames = getattr(model, "frames", 1)
        if frames > 1:
            pred = predict(
                model, x, windows=torch.as_tensor(window_rows(s.seq, frames, 1, idx, s.name, s.frame), device=device)
            )
        else:
            pred = predict(model, x[idx])
        pred = pred.cpu().numpy()
        plot_examples(s.pose2d[idx], s.pose3d[idx], pred, out / f"examples_{name}.png", title=name)
    print(f"wrote {js}, {md} and pictures in {out}")


def _claim_evaluation_dir(out: Path, force: bool) -> Path:
    """``out`` for ``dhaug evaluate``'s results: never a training run's own results, an earlier evaluation's
    only with ``force``."""
    previous = out / "results.json"
    if previous.is_file():
        try:
            made_by_training = "epochs_trained" in json.loads(previous.read_text())
        except (ValueError, OSError):
            made_by_training = True  # unreadable: not ours to replace
        if made_by_training:
            raise ConfigError(
                f"{previous} holds a training run's results; dhaug evaluate does not replace them: give another --out"
            )
    return claim_output_dir(out, force, ("results.json", "results.md"))


def evaluate_checkpoint(
    path: str | Path,
    out_dir: str | Path | None = None,
    overrides=(),
    updates: dict | None = None,
    only_cross: bool = False,
    force: bool = False,
    progress: bool = True,
) -> dict[str, dict]:
    """Score the checkpoint at ``path`` and write its report (results.json/.md and pictures); returns the
    results by test set.

    The run's config comes from the checkpoint, with ``overrides`` (``key=value`` strings) and ``updates``
    (a nested dict of config values) applied; model settings must still fit the saved weights. Test sets:
    the config's (H36M and its cross-dataset files) or, with ``only_cross``, just ``data.cross_sets``
    (Human3.6M is not loaded). ``out_dir`` (default ``RUN/evaluate_<test sets>/``) is claimed before any
    work when given; it never replaces a training run's results, and an earlier evaluation's only with
    ``force``."""
    state = checkpoint.load(path)
    cfg = load_config(state["config"], list(overrides), updates or {})
    out = _claim_evaluation_dir(Path(out_dir), force) if out_dir else None  # the default is named after the sets
    device = resolve_device(cfg.train.device)
    model = build_model(cfg.model).to(device)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:
        raise ConfigError(
            f"{path}: its weights do not fit the model config after the overrides "
            f"({str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else e}); "
            "leave model.* as the checkpoint has them"
        ) from None
    if only_cross:  # only the given files: Human3.6M is not loaded
        tests, every = load_cross_sets(cfg.data.cross_sets), None
        cross, train_fps = list(tests), 50.0 / max(1, cfg.data.downsample)
    else:
        data = load_experiment_data(cfg.data, full_rate_tests=cfg.model.frames > 1)
        tests, cross, every = data.tests, data.cross, data.test_every
        train_fps = data.train.fps / max(1, cfg.data.downsample)
    out = out or _claim_evaluation_dir(Path(path).parent / ("evaluate_" + "_".join(tests)), force)
    results = evaluate_experiment(model, tests, cross, cfg, device, train_fps, every, progress=progress)
    report(
        model,
        tests,
        results,
        [],
        out,
        device,
        title=f"{cfg.name}: {cfg.model.name}, checkpoint after epoch {state['epoch']}",
        extra={"checkpoint": str(path), "epoch": state["epoch"], "config": cfg.to_dict(), "test_sets": list(tests)},
    )
    return results

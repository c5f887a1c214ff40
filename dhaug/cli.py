"""The ``dhaug`` command line: ``demo``, ``train``, ``evaluate``, ``show-poses``, ``prepare h36m | 3dhp |
3dpw | hrnet``, ``lift``, ``generate``, ``export-bvh``.

Bad input ends with one ``error:`` line naming the file/key/value at fault (exit code 2).
What each command does: docs/cli.md#commands
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from .config import BODY_MODELS, NAMED_LIMITS
from .errors import ConfigError, DataError
from .registry import AUGMENT_METHODS


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="folder with data_3d_h36m.npz (and data_2d_h36m_<source>.npz)")
    p.add_argument(
        "--keypoints",
        help="2D source: gt | sh | cpn | det | hr (dhaug prepare hrnet) | <name of data_2d_h36m_<name>.npz>",
    )
    p.add_argument(
        "--cross",
        action="append",
        default=None,
        metavar="NPZ",
        help="a cross-dataset test file (cmu_test.npz / test_3dhp.npz format); repeat for several",
    )
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N")


def _updates(args) -> dict:
    """Config values given by the named command-line options."""
    up: dict = {"data": {}, "train": {}, "model": {}}
    if getattr(args, "data_dir", None):
        up["data"].update(dataset="h36m", data_dir=args.data_dir)
    if getattr(args, "keypoints", None):
        up["data"]["keypoints"] = args.keypoints
    if getattr(args, "cross", None) is not None:
        up["data"]["cross_sets"] = list(args.cross)
    if getattr(args, "device", None):
        up["train"]["device"] = args.device
    if getattr(args, "model", None):
        up["model"]["name"] = args.model
    if getattr(args, "frames", None):
        up["model"]["frames"] = args.frames
    if getattr(args, "out", None):
        up["out_dir"] = args.out
    if getattr(args, "augment", None):
        up.setdefault("augment", {})["method"] = args.augment
    if getattr(args, "body_model", None):
        up.setdefault("augment", {})["body_model"] = args.body_model
    return {k: v for k, v in up.items() if v not in ({}, None)}


def cmd_train(args) -> None:
    from .config import load_config  # late (here and below): `dhaug --help` without torch
    from .train import train

    cfg = load_config(args.config, args.overrides, _updates(args))
    train(cfg, resume=args.resume, progress=not args.no_progress, force=args.force)


def cmd_evaluate(args) -> None:
    """Score a checkpoint (:func:`dhaug.evaluate.evaluate_checkpoint`). Without ``--cross``: the run's own test
    sets (H36M and its cross-dataset files); with ``--cross``: only those files (plus H36M with ``--h36m``).
    Results go to ``--out`` (default ``RUN/evaluate_<test sets>/``), never over a training run's own results."""
    from .evaluate import evaluate_checkpoint, summary_line

    updates = _updates(args)
    updates.pop("out_dir", None)  # --out is where the results go, not the run's folder
    results = evaluate_checkpoint(
        args.checkpoint,
        args.out,
        args.overrides,
        updates,
        only_cross=args.cross is not None and not args.h36m,
        force=args.force,
        progress=not args.no_progress,
    )
    print(summary_line(results))


def cmd_demo(args) -> None:
    from .demo import run_demo

    run_demo(
        out_dir=args.out,
        data_dir=args.data_dir,
        cross=args.cross,
        epochs=args.epochs,
        models=args.models,
        augments=args.augment,
        device=args.device or "auto",
        progress=not args.no_progress,
        force=args.force,
    )


def cmd_show_poses(args) -> None:
    """Random DH poses, or a checkpoint's generator's, to a PNG (:func:`dhaug.show_poses.show_poses`)."""
    from .show_poses import show_poses

    written = show_poses(
        args.out,
        args.n,
        body_model=args.body_model,
        limits=args.limits,
        seed=args.seed,
        data_dir=args.data_dir,
        subject=args.subject,
        checkpoint=args.checkpoint,
        force=args.force,
    )
    for path in written:
        print(f"wrote {path}")


def cmd_lift(args) -> None:
    """Lift a 2D detector's keypoints with a checkpoint (:func:`dhaug.lift.run_lift`)."""
    from .lift import run_lift

    summary = run_lift(
        args.checkpoint,
        args.keypoints,
        args.out,
        fmt=args.format,
        image_size=args.image_size,
        fps=args.fps,
        smooth=args.smooth,
        min_score=args.min_score,
        force=args.force,
        progress=not args.no_progress,
        device=args.device,
        bvh=args.bvh,
    )
    for note in summary["notes"]:
        print(note)
    print(f"lifted {summary['frames']} frames; wrote {', '.join(summary['files'])} in {args.out}")


def cmd_generate(args) -> None:
    """Generated pairs or sequences to a file (:func:`dhaug.generate.generate_dataset`)."""
    from .generate import generate_dataset, random_source, source_from_checkpoint

    if args.checkpoint:
        if args.limits:
            raise ConfigError("--limits is for --random; a generator's limit table is in its weights")
        source = source_from_checkpoint(
            args.checkpoint, frames=args.frames, body_model=args.body_model, device=args.device or "auto"
        )
    else:
        if args.device not in (None, "auto", "cpu"):
            raise ConfigError(
                f"--device {args.device}: random DH poses are drawn on the CPU (--device is for --checkpoint)"
            )
        source = random_source(
            args.body_model or "paper", args.limits or "normal", 1 if args.frames is None else args.frames
        )
    s = generate_dataset(
        source,
        args.n,
        args.out,
        seed=args.seed,
        fmt=args.format,
        chunk=args.chunk,
        force=args.force,
        progress=not args.no_progress,
    )
    what = "poses" if s["frames"] == 1 else f"sequences of {s['frames']} frames"
    print(
        f"wrote {args.out} ({args.format}): {s['n']:,} {what}, {s['valid_fraction']:.1%} of {s['draws']:,} draws "
        f"valid, {s['n'] / max(s['seconds'], 1e-9):,.0f} per second"
    )


def cmd_prepare(args) -> None:
    sources = list(args.sources or []) + ([args.from_archive] if args.from_archive else [])
    if args.from_archive and args.dataset != "h36m":
        raise ConfigError(f"--from-archive is for h36m; give the {args.dataset} files with --from")
    if not sources:
        raise ConfigError(f"prepare {args.dataset}: give the input with --from")
    if args.any_length and args.dataset != "3dhp":
        raise ConfigError("--any-length is for prepare 3dhp")
    if args.dataset == "h36m":
        from .data.archive import prepare_h36m_archive

        if len(sources) != 1:
            raise ConfigError(f"prepare h36m takes one archive (h36m.zip or its folder), got {len(sources)}")
        summary = prepare_h36m_archive(sources[0], args.out_dir)
    elif args.dataset == "3dhp":
        from .data.prepare_3dhp import prepare_3dhp

        summary = prepare_3dhp(sources, args.out_dir, force=args.force, any_length=args.any_length)
    elif args.dataset == "3dpw":
        from .data.prepare_3dpw import prepare_3dpw

        summary = prepare_3dpw(sources, args.out_dir, force=args.force)
    else:
        from .data.prepare_2d import prepare_hrnet

        summary = prepare_hrnet(sources, args.out_dir, force=args.force)
    if summary.get("description"):
        print(summary["description"])
    for w in summary.get("warnings", []):
        print(f"warning: {w}")
    print(f"wrote {', '.join(str(f) for f in summary.get('files_written', []))}")


def cmd_export_bvh(args) -> None:
    """A motion file to BVH (:func:`dhaug.bvh_export.export_bvh`)."""
    from .bvh_export import export_bvh

    s = export_bvh(
        args.motion,
        args.out,
        sequence=args.sequence,
        fps=args.fps,
        body_model=args.body_model,
        smooth=args.smooth,
        force=args.force,
    )
    print(
        f"wrote {s['out']}: {s['frames']} frames at {s['fps']:g} fps from {s['source']}; joints of the BVH "
        f"motion are {s['residual_mm_mean']:.1f} mm (mean), {s['residual_mm_max']:.1f} mm (max) from the input"
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # late: --version only

    try:
        return version("dhaug")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dhaug", description="DH-AUG: kinematics-driven augmentation for 3D pose lifting"
    )
    parser.add_argument("--version", action="version", version=f"dhaug {_version()}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error (also DHAUG_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "demo",
        help="no augmentation vs random DH poses vs DH-AUG, on built-in synthetic data (no "
        "downloads), or on --data-dir",
    )
    p.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="pose-net epochs per run (default: 8 synthetic; the full schedule on real data)",
    )
    p.add_argument("--models", nargs="+", default=None, help="backbones to train (default: videopose, single-frame)")
    p.add_argument(
        "--augment",
        nargs="+",
        default=None,
        choices=["none", "random", "dhaug", "poseaug"],
        help="augmentations to compare (default: none random dhaug)",
    )
    p.add_argument("--force", action="store_true", help="replace the runs of an earlier demo in OUT")
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars (shown only on a terminal; a redirected log never has them)",
    )
    _add_common(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train a lifting network from a config")
    p.add_argument("--config", help="YAML config (see configs/)")
    p.add_argument("--model", help="backbone: videopose | mlp | semgcn | stgcn | poseformer")
    p.add_argument("--frames", type=int, help="input frames per prediction (videopose: 9, 27, 81; poseformer: any odd)")
    p.add_argument("--out", help="output folder (overrides out_dir)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--force", action="store_true", help="replace the run in OUT (its checkpoint and results)")
    p.add_argument(
        "--augment",
        choices=list(AUGMENT_METHODS),
        help="synthetic DH poses: none | random (paper's 'normal' mode) | dhaug (the DH-AUG GAN) | "
        "dhaug-video (its video mode, with --frames) | poseaug (PoseAug's learned augmentor of the "
        "real poses, for comparison)",
    )
    p.add_argument("--body-model", choices=BODY_MODELS, help="DH body model for augmentation")
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars (shown only on a terminal; a redirected log never has them)",
    )
    _add_common(p)
    p.add_argument("overrides", nargs="*", help="config overrides key=value, e.g. train.epochs=5")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a checkpoint on its test sets, or only on --cross files")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", help="output folder (default: RUN/evaluate_<test sets>; never the run's own results)")
    p.add_argument("--h36m", action="store_true", help="with --cross: score Human3.6M's test subjects too")
    p.add_argument("--force", action="store_true", help="replace an earlier dhaug evaluate's results in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_common(p)
    p.add_argument("overrides", nargs="*", help="config overrides key=value")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "show-poses",
        help="render a grid of random DH poses, or of a trained generator's poses (--checkpoint), to a PNG (3D + 2D)",
    )
    p.add_argument(
        "--checkpoint",
        help="a checkpoint of a run trained with --augment dhaug or dhaug-video: draw its "
        "generator's poses (video: two sequences frame by frame, and OUT.gif)",
    )
    p.add_argument(
        "--out", default="poses.png", help="the PNG to write (default poses.png; a video generator also writes OUT.gif)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.add_argument(
        "--n", type=int, default=None, help="poses to draw (default 12), or sequences for a video generator (default 4)"
    )
    p.add_argument("--body-model", default="paper", choices=BODY_MODELS)
    p.add_argument("--limits", default="normal", choices=NAMED_LIMITS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", help="take bone lengths, roots and cameras from this H36M folder")
    p.add_argument(
        "--subject", default="S1", help="with --data-dir: whose bone lengths, roots and cameras (default S1)"
    )
    p.set_defaults(func=cmd_show_poses)

    p = sub.add_parser("lift", help="lift a 2D detector's keypoints (COCO/MMPose JSON, OpenPose folder, npz) to 3D")
    p.add_argument(
        "--checkpoint",
        help="a trained run's checkpoint.pt (default: the bundled lifter, a VideoPose3D "
        "single-frame network trained with DH-AUG on Human3.6M, research use only: "
        "dhaug/weights/MODEL_CARD.md)",
    )
    p.add_argument(
        "--keypoints",
        required=True,
        metavar="FILE_OR_DIR",
        help="COCO results or MMPose JSON, a folder of OpenPose *_keypoints.json (or MMPose) files, "
        "or a .npz/.npy array (T, 17|25|16, 2|3)",
    )
    p.add_argument(
        "--format",
        default="auto",
        choices=["auto", "coco", "openpose", "npz"],
        help="input format (default: guessed from the path)",
    )
    p.add_argument(
        "--image-size",
        type=float,
        nargs=2,
        metavar=("W", "H"),
        help="image width and height in pixels (required unless an npz carries image_size)",
    )
    p.add_argument(
        "--fps",
        type=float,
        help="frame rate of the input: sets the smoothing window and a multi-frame "
        "model's window step (default: 30 fps assumed for smoothing, step 1)",
    )
    p.add_argument("--smooth", action="store_true", help="Savitzky-Golay smoothing of the 2D (about 0.2 s windows)")
    p.add_argument(
        "--min-score",
        type=float,
        default=0.3,
        help="joints scored below this are filled in time from other frames (default 0.3)",
    )
    p.add_argument("--out", required=True, help="output folder (lifted.npz, lifted.json, lifted.png, lifted.gif)")
    p.add_argument(
        "--bvh",
        action="store_true",
        help="also write lifted.bvh (the motion as a BVH animation, as dhaug export-bvh makes it)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing lifted.npz in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N (default auto: CUDA when present)")
    p.set_defaults(func=cmd_lift)

    p = sub.add_parser(
        "generate",
        help="write generated 2D-3D pairs (or sequences) with their cameras: a VideoPose3D "
        "folder or a cross-dataset npz (for other toolkits, or data.train_file)",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--checkpoint",
        help="a run trained with --augment dhaug or dhaug-video: its generator's poses "
        "(a video generator: sequences of its own length)",
    )
    src.add_argument("--random", action="store_true", help="random DH poses (--frames T > 1: smooth random sequences)")
    p.add_argument("--n", type=int, required=True, help="poses to write (sequences, with --frames T > 1)")
    p.add_argument("--frames", type=int, help="frames per sequence (default 1: single poses; a checkpoint: its own)")
    p.add_argument("--body-model", choices=BODY_MODELS, help="--random: the DH body model (default paper)")
    p.add_argument("--limits", choices=NAMED_LIMITS, help="--random: the angle limits (default normal)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same file, whatever --chunk")
    p.add_argument(
        "--format",
        default="videopose3d",
        choices=["videopose3d", "cross"],
        help="videopose3d: a folder (data_3d_h36m.npz, data_2d_h36m_gt.npz, cameras.json); cross: one npz "
        "in the cmu_test.npz format (default videopose3d)",
    )
    p.add_argument("--chunk", type=int, default=100_000, help="frames held in memory before a write (default 100000)")
    p.add_argument("--out", required=True, help="the folder (videopose3d) or .npz file (cross) to write")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.add_argument("--device", help="--checkpoint: auto | cpu | cuda | cuda:N (default auto)")
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress display (a bar on a terminal; in a log, a plain line per quarter of a long run)",
    )
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "export-bvh",
        help="a lifted or generated 16-joint motion as a BVH animation (inverse kinematics to the DH body model)",
        description="Writes one BVH file: centimetres, Y up, the subject facing +Z at rest; the "
        "pelvis carries the translation. Joint angles come from the DH body model's "
        "inverse kinematics with the motion's median bone lengths.",
    )
    p.add_argument(
        "motion",
        help="dhaug lift's lifted.npz, a cross-dataset .npz (dhaug generate --format cross, "
        "cmu_test.npz) or a dhaug generate folder (VideoPose3D layout)",
    )
    p.add_argument("--out", required=True, help="the .bvh file to write")
    p.add_argument(
        "--sequence",
        help="the clip of a file with several: a cross npz's seq number, or SUBJECT/ACTION "
        "of a VideoPose3D folder, e.g. 'view0/Sequence 3' (default: the first)",
    )
    p.add_argument("--fps", type=float, help="frame rate (default: the file's, else 30)")
    p.add_argument(
        "--body-model",
        default="clavicle",
        choices=BODY_MODELS,
        help="DH body model for the joint angles (default clavicle: shoulders placed exactly)",
    )
    p.add_argument(
        "--smooth",
        type=float,
        default=0.0,
        metavar="SIGMA",
        help="Gaussian smoothing of the joints over time before IK, sigma in frames (default 0: none)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.set_defaults(func=cmd_export_bvh)

    p = sub.add_parser(
        "prepare",
        help="convert datasets into dhaug's npz files: h36m (h36m.zip), 3dhp (SPIN's "
        "mpi_inf_3dhp_valid.npz or P-STMO's data_test_3dhp.npz -> test_3dhp.npz), "
        "3dpw (sequenceFiles/test -> test_3dpw.npz), hrnet (EvoSkeleton's "
        "twoDPose_HRN_*.npy -> data_2d_h36m_hr.npz)",
    )
    p.add_argument("dataset", choices=["h36m", "3dhp", "3dpw", "hrnet"])
    p.add_argument(
        "--from",
        dest="sources",
        nargs="+",
        metavar="PATH",
        help="input file(s) or folder: h36m.zip | mpi_inf_3dhp_valid.npz or data_test_3dhp.npz | "
        "sequenceFiles/test (or .pkl files) | twoDPose_HRN_train.npy twoDPose_HRN_test.npy",
    )
    p.add_argument("--from-archive", help="h36m only: same as --from h36m.zip (or its extracted folder)")
    p.add_argument(
        "--out",
        "--out-dir",
        dest="out_dir",
        required=True,
        help="where to write the output (data_3d_h36m.npz, test_3dhp.npz, test_3dpw.npz, data_2d_h36m_hr.npz)",
    )
    p.add_argument("--force", action="store_true", help="3dhp/3dpw/hrnet: replace an existing output file")
    p.add_argument(
        "--any-length",
        action="store_true",
        help="3dhp: convert a file that is not the standard 2,929-frame test set (a subset)",
    )
    p.set_defaults(func=cmd_prepare)
    for name, action in zip(sub.choices, sub._choices_actions):  # help line -> description, and an example
        p = sub.choices[name]
        p.description = p.description or action.help[:1].upper() + action.help[1:] + "."
        p.epilog = p.epilog or "example:\n  " + "\n  ".join(EXAMPLES[name])
        p.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


#: One or two example command lines per subcommand (shown under its --help).
EXAMPLES = {
    "demo": ["dhaug demo --out runs/demo"],
    "train": [
        "dhaug train --config configs/quick_videopose.yaml --augment dhaug --out runs/vp_dhaug",
        "dhaug train --config configs/quick_videopose.yaml --augment dhaug --out runs/vp_dhaug --resume",
    ],
    "evaluate": ["dhaug evaluate --checkpoint runs/vp_dhaug/checkpoint.pt --cross test_3dhp.npz"],
    "show-poses": ["dhaug show-poses --out poses.png --n 12 --body-model clavicle"],
    "lift": ["dhaug lift --keypoints results.json --image-size 1920 1080 --out runs/lift --bvh"],
    "generate": [
        "dhaug generate --random --n 100000 --out runs/random_poses",
        "dhaug generate --checkpoint runs/vp_dhaug/checkpoint.pt --n 100000 --format cross --out gen.npz",
    ],
    "export-bvh": ["dhaug export-bvh runs/lift/lifted.npz --out runs/lift/lifted.bvh"],
    "prepare": ["dhaug prepare h36m --from h36m.zip --out ../shared/data/h36m"],
}


def _live_stdout() -> None:
    """Line-buffer stdout, so a log redirected to a file shows each line as it is printed."""
    try:
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, ValueError, OSError):  # not a TextIOWrapper (a test's capture), or closed
        pass


#: What an interrupted command leaves behind.
INTERRUPTED = {
    "train": "the last completed epoch's checkpoint is kept: dhaug train --resume continues",
    "demo": "finished runs and the last completed epoch's checkpoint are kept",
    "generate": "nothing was written and its temporary files are removed",
    "lift": "nothing was written unless the outputs were complete",
    "export-bvh": "nothing was written",
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that temporary files are removed as on Ctrl-C."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Run one command. Bad input, bad options and OS errors end with one ``error:`` line and exit code 2
    (``--debug`` or ``DHAUG_DEBUG=1``: the traceback instead); Ctrl-C and SIGTERM name the command and what it
    kept (exit 130 / 143)."""
    import signal  # late: main() only
    import threading

    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("DHAUG_DEBUG", "") not in ("", "0")
    _live_stdout()
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    t0 = time.time()
    try:
        args.func(args)
    except (DataError, ConfigError, OSError) as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        if debug:
            raise
        what = "terminated (SIGTERM)" if isinstance(e, Terminated) else "interrupted"
        kept = INTERRUPTED.get(args.command, "files it finished are kept")
        print(f"dhaug {args.command} {what}; {kept}", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)
    if os.environ.get("RANK", "0") == "0":  # under torchrun: once
        print(f"done in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

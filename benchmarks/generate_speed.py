"""Generated pairs per second of ``dhaug generate``: random DH poses and the DH-AUG generator (single
frames and sequences), on CPU and (the generator) on CUDA when present.

Two kinds of row: *draw + project* — the source's blocks, their projection into the cameras and the
numpy chunks (:func:`dhaug.generate.valid_chunks`: what any consumer pays per pair), and *file* — ``generate_dataset`` end to end (draw, chunked writes to
the temporary columns, the npz assembled and renamed), per layout. The generator is an untrained one of
the default width (speed does not depend on its weights). Random poses are drawn on the CPU only.

Run from the repository root:  python benchmarks/generate_speed.py [--n 200000] [--frames 1 9]
[--formats cross videopose3d] [--threads 0] [--stem generate_speed]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from common import machine, write

from dhaug.augment.basis import temporal_basis
from dhaug.augment.dhaug.networks import Generator
from dhaug.augment.dhaug.video import VideoGenerator
from dhaug.config import AugmentConfig
from dhaug.generate import (
    DEFAULT_CHUNK,
    FORMATS,
    GeneratorPoses,
    block_draws,
    generate_dataset,
    random_source,
    valid_chunks,
)
from dhaug.kinematics import PAPER, paper_table


def make_source(kind: str, frames: int, device: torch.device):
    if kind == "random":
        return random_source(frames=frames)
    width = AugmentConfig().gan.gen_width
    torch.manual_seed(0)
    G = (
        Generator(PAPER, paper_table("gan"), width)
        if frames == 1
        else VideoGenerator(PAPER, paper_table("gan"), frames, width, temporal_basis=temporal_basis(-1, frames))
    )
    return GeneratorPoses(G, device=device, info={"benchmark": "untrained generator"})


def draw_rate(source, n: int) -> float:
    """Valid draws per second of :func:`dhaug.generate.valid_chunks` (blocks, projection, numpy chunks)."""
    t0 = time.perf_counter()
    for _ in valid_chunks(source, n, 0, max(1, DEFAULT_CHUNK // source.frames)):
        pass
    return n / (time.perf_counter() - t0)


def bench(kind: str, frames: int, device: torch.device, n: int, formats: list[str], folder: Path) -> list[dict]:
    source = make_source(kind, frames, device)
    count = max(1, n // frames)  # about n frames per row
    draw_rate(source, 10)  # warm-up: lazy imports, first kernels
    rows = [
        {
            "source": kind,
            "device": str(device),
            "frames": frames,
            "what": "draw + project",
            "draws_per_s": draw_rate(source, count),
        }
    ]
    for fmt in formats:
        out = folder / f"{kind}_{frames}_{device.type}_{fmt}" / ("g.npz" if fmt == "cross" else "g")
        s = generate_dataset(source, count, out, fmt=fmt, progress=False)
        size = sum(p.stat().st_size for p in ([out] if out.is_file() else out.iterdir()))
        rows.append(
            {
                "source": kind,
                "device": str(device),
                "frames": frames,
                "what": f"file, {fmt}",
                "draws_per_s": count / s["seconds"],
                "valid_fraction": s["valid_fraction"],
                "bytes_per_frame": size / (count * frames),
                "n": count,
            }
        )
    for r in rows:
        r["frames_per_s"] = r["draws_per_s"] * frames
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000, help="frames per row (sequences: n / frames of them)")
    ap.add_argument("--frames", type=int, nargs="+", default=[1, 9])
    ap.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--stem", default="generate_speed", help="results file name (benchmarks/results/STEM.{json,md})")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for frames in a.frames:
            for kind, device in [("random", torch.device("cpu"))] + [("generator", d) for d in devices]:
                rows += bench(kind, frames, device, a.n, a.formats, Path(tmp))
                print(
                    f"{kind} {device} T={frames}: "
                    + ", ".join(
                        f"{r['what']} {r['draws_per_s']:,.0f}/s"
                        for r in rows
                        if r["source"] == kind and r["device"] == str(device) and r["frames"] == frames
                    )
                )
    md = [
        "# dhaug generate: generated pairs per second",
        "",
        f"About {a.n:,} frames per row (sequences: {a.n:,} / T of them), seed 0, the four S1 cameras; a draw is a "
        "pose (T = 1) or a sequence of T frames seen by one camera. *draw + project*: the source's blocks, "
        "their projection and numpy chunks (invalid draws dropped); *file*: `generate_dataset` end to end, default chunk. "
        f"Blocks of {block_draws(1, 4):,} draws (T = 1). The generator is untrained, of the default width.",
        "",
        "| source | device | T | what | draws/s | frames/s | valid | bytes/frame |",
        "|---|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['source']} | {r['device']} | {r['frames']} | {r['what']} | {r['draws_per_s']:,.0f} | "
        f"{r['frames_per_s']:,.0f} | {format(r['valid_fraction'], '.1%') if 'valid_fraction' in r else ''} | "
        f"{format(r['bytes_per_frame'], '.0f') if 'bytes_per_frame' in r else ''} |"
        for r in rows
    ]
    md += ["", f"Machine: {machine()}"]
    write(
        a.stem,
        {"machine": machine(), "n": a.n, "frames": a.frames, "formats": a.formats, "rows": rows},
        "\n".join(md) + "\n",
    )

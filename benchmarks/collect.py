"""One table from finished training runs (their ``results.json``), e.g. runs of one protocol made by
separate benchmark invocations. Every test set of every run, frame-weighted, last epoch.

Run from the repository root:  python benchmarks/collect.py runs/A runs/B ... --stem NAME [--title T]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import machine, write


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
            rows.append({"run": run, "model": cfg["model"]["name"], "frames": cfg["model"]["frames"],
                         "augment": cfg["augment"]["method"], "seed": cfg["train"]["seed"], "set": name,
                         "window": f"{w['frames']} x {w['fps']:g} fps" if w else "1", "flip_test": r["flip_test"],
                         **{k: r["frame_mean"][k] for k in ("mpjpe", "p_mpjpe", "pck", "auc")},
                         "wall_s": sum(h["seconds"] for h in hist)})
    md = [f"# {a.title}", "", "| model | frames | augment | seed | test set | window | MPJPE | P-MPJPE | PCK | AUC | "
          "training time (s) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['model']} | {r['frames']} | {r['augment']} | {r['seed']} | {r['set']}{' (flip test)' if r['flip_test'] else ''} "
           f"| {r['window']} | {r['mpjpe']:.2f} | {r['p_mpjpe']:.2f} | {r['pck']:.2f} | {r['auc']:.2f} | {r['wall_s']:.0f} |"
           for r in rows]
    md += ["", "Frame-weighted means, mm and %, last epoch (no model selection). Runs: " + ", ".join(f"`{r}`" for r in a.runs),
           "", f"Machine: {machine()}", ""]
    write(a.stem, {"rows": rows, "machine": machine()}, "\n".join(md))


if __name__ == "__main__":
    main()

"""Pictures for people: training curves, per-action error bars, skeletons. Headless (Agg) only."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .camera import camera_to_upright
from .data.synthetic import SYNTHETIC_NOTE
from .kinematics.limits import GLOBAL_ROTATIONS, paper_table
from .skeleton import H36M16, Skeleton

_LEFT, _RIGHT = "tab:blue", "tab:red"


def _bone_color(skeleton: Skeleton, child: int) -> str:
    if child in skeleton.left:
        return _LEFT
    if child in skeleton.right:
        return _RIGHT
    return "0.3"


def plot_curves(history: list[dict], path: str | Path) -> None:
    """Training loss and (if present) test MPJPE per epoch."""
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    ep = [h["epoch"] for h in history]
    ax1.plot(ep, [h["train_loss"] for h in history], marker="o")
    ax1.set_yscale("log")
    ax1.set(xlabel="epoch", ylabel="loss (MSE m² or MPJPE m, train.loss)", title="training loss (real pass)")
    names = sorted({k[len("eval/") :] for h in history for k in h if k.startswith("eval/")})
    for n in names:
        pts = [(h["epoch"], h[f"eval/{n}"]) for h in history if f"eval/{n}" in h]
        if pts:
            ax2.plot(*zip(*pts), marker="o", label=n)
    ax2.set(xlabel="epoch", ylabel="MPJPE (mm)", title="test MPJPE (monitoring only)")
    if names:
        ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_per_action(results: dict[str, dict], path: str | Path, metric: str = "mpjpe") -> None:
    """One horizontal bar chart per test set: the metric per action, with both means marked."""
    n = len(results)
    fig = Figure(figsize=(6 * n, 0.35 * max(len(r["per_action"]) for r in results.values()) + 1.5))
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, (name, r) in zip(axes, results.items()):
        acts = list(r["per_action"])
        vals = [r["per_action"][a][metric] for a in acts]
        ax.barh(range(len(acts)), vals, color="tab:gray")
        ax.set_yticks(range(len(acts)), [a[:28] for a in acts], fontsize=8)
        fm, am = r["frame_mean"][metric], r["action_mean"][metric]
        ax.axvline(fm, color="tab:red")
        ax.axvline(am, color="tab:blue", ls="--")
        ax.invert_yaxis()
        ax.set(xlabel=f"{metric} (mm)")
        ax.set_title(f"{name}\nframe mean {fm:.1f} (red), action mean {am:.1f} (blue, dashed)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def draw_skeleton_3d(
    ax, pose: np.ndarray, skeleton: Skeleton = H36M16, style: str = "-", alpha: float = 1.0, camera_frame: bool = True
) -> None:
    """Draw one (J, 3) pose on a 3D axis. Camera-frame poses (y down, z forward) are shown upright."""
    p = np.asarray(pose, dtype=np.float64)
    if camera_frame:
        p = camera_to_upright(p)
    for parent, child in skeleton.bones:
        ax.plot(*p[[parent, child]].T, style, color=_bone_color(skeleton, child), alpha=alpha, lw=2)


def draw_skeleton_2d(ax, pose: np.ndarray, skeleton: Skeleton = H36M16) -> None:
    """Draw one (J, 2) normalised 2D pose (image y down)."""
    for parent, child in skeleton.bones:
        ax.plot(*pose[[parent, child]].T, "-", color=_bone_color(skeleton, child), lw=2)


def _equal_3d(ax, pts: np.ndarray) -> None:
    """Equal limits on the three axes around ``pts`` and a cubic box: a metre is as long upwards as sideways."""
    p = pts.reshape(-1, 3)
    c = (p.max(0) + p.min(0)) / 2
    r = (p.max(0) - p.min(0)).max() / 2 + 0.02
    ax.set_xlim(c[0] - r, c[0] + r)
    ax.set_ylim(c[1] - r, c[1] + r)
    ax.set_zlim(c[2] - r, c[2] + r)
    ax.set_box_aspect((1, 1, 1), zoom=1.35)


def _fit_2d(ax, pose2d: np.ndarray, margin: float = 0.15) -> None:
    """Equal-aspect limits around a (J, 2) pose (image y down)."""
    lo, hi = pose2d.min(0), pose2d.max(0)
    c, r = (lo + hi) / 2, (hi - lo).max() / 2 * (1 + margin) + 1e-3
    ax.set_xlim(c[0] - r, c[0] + r)
    ax.set_ylim(c[1] + r, c[1] - r)
    ax.set_aspect("equal")


def side_key(fig: Figure) -> None:
    """The left/right colour key of the skeleton drawings, once per figure (top left, outside the panels)."""

    handles = [Line2D([], [], color=_LEFT, lw=2), Line2D([], [], color=_RIGHT, lw=2), Line2D([], [], color="0.3", lw=2)]
    fig.legend(
        handles, ["subject's left", "subject's right", "centre"], loc="upper left", fontsize=7, frameon=False, ncol=3
    )


def plot_examples(
    pose2d: np.ndarray, gt: np.ndarray, pred: np.ndarray, path: str | Path, title: str = "", skeleton: Skeleton = H36M16
) -> None:
    """Rows of examples: 2D input | 3D ground truth (dashed) and prediction (solid)."""
    n = len(pose2d)
    fig = Figure(figsize=(7, 3.3 * n))
    for i in range(n):
        ax = fig.add_subplot(n, 2, 2 * i + 1)
        draw_skeleton_2d(ax, pose2d[i], skeleton)
        _fit_2d(ax, pose2d[i])
        ax.locator_params(nbins=4)
        ax.tick_params(labelsize=7)
        ax.set_title("2D input (normalised screen)", fontsize=9)
        ax3 = fig.add_subplot(n, 2, 2 * i + 2, projection="3d")
        draw_skeleton_3d(ax3, gt[i], skeleton, "--", 0.6)
        draw_skeleton_3d(ax3, pred[i], skeleton, "-")
        p = np.concatenate([gt[i], pred[i]])
        _equal_3d(ax3, camera_to_upright(p))
        err = np.linalg.norm(gt[i] - pred[i], axis=-1).mean() * 1000
        ax3.set_title(f"3D: GT dashed, prediction solid ({err:.0f} mm)", fontsize=9)
        ax3.set_xticklabels([])
        ax3.set_yticklabels([])
        ax3.set_zticklabels([])
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    side_key(fig)
    fig.savefig(path, dpi=90)


def plot_pose_grid(
    world: np.ndarray,
    pose2d: np.ndarray,
    path: str | Path,
    title: str = "",
    cols: int = 4,
    skeleton: Skeleton = H36M16,
    labels: list[str] | None = None,
    fit_2d: bool = False,
) -> None:
    """A grid of generated poses: each cell a 3D skeleton (world frame, Z up) above its 2D projection.
    ``labels``: one 3D title per cell (default ``#i 3D (world, Z up)``); ``fit_2d``: 2D panels framed
    around the pose instead of the whole [-1, 1] screen."""
    n = len(world)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(3.2 * cols, 6.0 * rows))
    for i in range(n):
        r, c = divmod(i, cols)
        ax = fig.add_subplot(2 * rows, cols, 2 * r * cols + c + 1, projection="3d")
        p = world[i] - world[i, :1]
        draw_skeleton_3d(ax, p, skeleton, camera_frame=False)
        _equal_3d(ax, p)
        ax.view_init(elev=15, azim=-70)
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_zticklabels([])
        ax.set_title(labels[i] if labels else f"#{i} 3D (world, Z up)", fontsize=8)
        ax2 = fig.add_subplot(2 * rows, cols, (2 * r + 1) * cols + c + 1)
        draw_skeleton_2d(ax2, pose2d[i], skeleton)
        if fit_2d:
            _fit_2d(ax2, pose2d[i])
        else:
            ax2.set_xlim(-1, 1)
            ax2.set_ylim(1, -1)
            ax2.set_aspect("equal")
        ax2.locator_params(nbins=4)
        ax2.set_title("2D (normalised screen)", fontsize=8)
        ax2.tick_params(labelsize=6)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.96 if rows < 3 else 0.985))
    side_key(fig)
    fig.savefig(path, dpi=80)


def plot_smoothness(rows: list[tuple[int, float, float]], path: str | Path) -> None:
    """Mean joint acceleration (mm / frame^2 at the training frame rate) of real and generated
    sequences per epoch: generated motion should come down to the real level, not jitter above it."""
    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot(1, 1, 1)
    if rows:
        e, real, fake = zip(*rows)
        ax.plot(e, real, "o-", color="tab:orange", label="real (H36M windows)")
        ax.plot(e, fake, "o-", color="0.3", label="generated")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean joint acceleration (mm / frame$^2$)")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _sequence_points(world: np.ndarray, pose2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, T, J, 3) sequences around each one's mean pelvis (travel stays visible) and (S, T, J, 2)."""
    world, pose2d = np.asarray(world), np.asarray(pose2d)
    if world.ndim == 3:
        world, pose2d = world[None], pose2d[None]
    return world - world[:, :, :1].mean(1, keepdims=True), pose2d


def _draw_sequence_frame(
    fig: Figure, pts: np.ndarray, pose2d: np.ndarray, t: int, caption: str, skeleton: Skeleton
) -> None:
    """Frame ``t`` of every sequence into ``fig``: 3D (axes fixed over the sequence) above 2D."""
    n_seq = len(pts)
    for k in range(n_seq):
        ax = fig.add_subplot(2, n_seq, k + 1, projection="3d")
        draw_skeleton_3d(ax, pts[k, t], skeleton, camera_frame=False)
        _equal_3d(ax, pts[k].reshape(-1, 3))
        ax.view_init(elev=15, azim=-70)
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_zticklabels([])
        ax.set_title(f"#{k}", fontsize=8)
        ax2 = fig.add_subplot(2, n_seq, n_seq + k + 1)
        draw_skeleton_2d(ax2, pose2d[k, t], skeleton)
        ax2.set_xlim(-1, 1)
        ax2.set_ylim(1, -1)
        ax2.set_aspect("equal")
        ax2.tick_params(labelsize=5)
    fig.suptitle(caption, fontsize=9)
    side_key(fig)


def _frame_caption(title: str, t: int, n_frames: int, frame_labels: list[str] | None) -> str:
    return f"{title}  {frame_labels[t] if frame_labels else f'frame {t + 1}/{n_frames}'}"


def save_sequence_gif(
    world: np.ndarray,
    pose2d: np.ndarray,
    path: str | Path,
    fps: float = 5.0,
    title: str = "",
    skeleton: Skeleton = H36M16,
    frame_labels: list[str] | None = None,
) -> None:
    """An animated GIF of one or several sequences played together: per sequence, 3D (world frame,
    Z up, axes fixed over the sequence) above its 2D. world (T,16,3) or (S,T,16,3); pose2d likewise (..,16,2).
    ``frame_labels``: one caption per frame (default ``frame t/T``)."""
    from PIL import Image  # late: only GIFs need Pillow

    pts, pose2d = _sequence_points(world, pose2d)
    n_seq, n_frames = pts.shape[:2]
    frames = []
    for t in range(n_frames):
        fig = Figure(figsize=(2.6 * n_seq + 0.6, 5.4))
        _draw_sequence_frame(fig, pts, pose2d, t, _frame_caption(title, t, n_frames, frame_labels), skeleton)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=70)
        frames.append(Image.open(io.BytesIO(buf.getvalue())).convert("P", palette=Image.ADAPTIVE))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)


def save_sequence_video(
    world: np.ndarray,
    pose2d: np.ndarray,
    path: str | Path,
    fps: float = 5.0,
    title: str = "",
    skeleton: Skeleton = H36M16,
    frame_labels: list[str] | None = None,
) -> None:
    """The same frames as :func:`save_sequence_gif` as an MP4 (H.264), through matplotlib's ffmpeg writer;
    needs ``ffmpeg`` on the PATH (check ``shutil.which("ffmpeg")`` first)."""
    from matplotlib.animation import FFMpegWriter  # late: only videos need it

    pts, pose2d = _sequence_points(world, pose2d)
    n_seq, n_frames = pts.shape[:2]
    fig = Figure(figsize=(2.6 * n_seq + 0.6, 5.4))
    writer = FFMpegWriter(fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
    with writer.saving(fig, str(path), dpi=70):
        for t in range(n_frames):
            fig.clear()
            _draw_sequence_frame(fig, pts, pose2d, t, _frame_caption(title, t, n_frames, frame_labels), skeleton)
            writer.grab_frame()


def plot_dof_histograms(
    model,
    dofs: torch.Tensor,
    rotation: torch.Tensor,
    path: str | Path,
    title: str = "",
    data_table=None,
    reference: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> None:
    """One histogram per DOF with the paper's GAN (red) and normal (green) ranges and, if given, the
    data-driven range (blue dashed) and a reference distribution (``(dofs, rotation)``, e.g. the IK
    angles of real poses; orange outline, same area)."""

    values = torch.rad2deg(torch.cat([dofs, rotation], -1)).reshape(-1, model.num_dofs + 3).numpy()
    ref = None
    if reference is not None:
        ref = torch.rad2deg(torch.cat(reference, -1)).reshape(-1, model.num_dofs + 3).numpy()
    names = model.dof_names + GLOBAL_ROTATIONS
    gan, normal = paper_table("gan").ranges, paper_table("normal").ranges
    cols = 6
    rows = (len(names) + cols - 1) // cols
    fig = Figure(figsize=(3.0 * cols, 2.2 * rows))
    edges = np.linspace(-180, 180, 91)
    for i, n in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        # one filled step outline per histogram (ax.hist would draw 90 bar patches each: several times slower)
        ax.stairs(np.histogram(values[:, i], edges, density=True)[0], edges, color="0.5", fill=True)
        if ref is not None:
            ax.stairs(np.histogram(ref[:, i], edges, density=True)[0], edges, color="tab:orange")
        for table, color, style in ((gan, "tab:red", "-"), (normal, "tab:green", "-")):
            for x in table[n]:
                ax.axvline(x, color=color, ls=style, lw=1)
        if data_table is not None and n in data_table.ranges:
            for x in data_table.ranges[n]:
                ax.axvline(x, color="tab:blue", ls="--", lw=1)
        ax.set_title(n, fontsize=8)
        ax.set_yticks([])
        ax.tick_params(labelsize=6)
    fig.suptitle(
        title or "IK angles (deg): red = paper GAN range, green = paper 'normal' range, blue = data 0.5-99.5 %"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def render_synthetic_preview(
    mocap, path, subject: str | None = None, frames_per_action: int = 5, dpi: int = 70, view_azim: float = -60.0
) -> Path:
    """Save a PNG with a few frames of every action of one subject of the synthetic demo data
    (:func:`dhaug.data.synthetic.make_synthetic_mocap`) as 3D skeletons.

    Left limbs are drawn blue, right limbs red, the torso black; the floor is the z = 0 plane.
    Each panel is viewed from ``view_azim`` degrees around the subject's facing direction
    (0 = from the front, -90 = from the subject's right side).
    Uses matplotlib's object API (Agg canvas), so no GUI backend is needed.
    """

    subject = subject or next(iter(mocap.positions))
    actions = mocap.positions[subject]
    n_rows, n_cols = len(actions), frames_per_action
    fig = Figure(figsize=(2.2 * n_cols, 2.4 * n_rows))
    FigureCanvasAgg(fig)
    left, right = set(H36M16.left), set(H36M16.right)
    for r, (action, seq) in enumerate(actions.items()):
        idx = np.linspace(0, len(seq) - 1, n_cols).round().astype(int)
        for col, t in enumerate(idx):
            ax = fig.add_subplot(n_rows, n_cols, r * n_cols + col + 1, projection="3d")
            pose = seq[t]
            centre = pose[0].copy()
            for p, j in H36M16.bones:
                colour = "tab:blue" if j in left else "tab:red" if j in right else "k"
                ax.plot(*[(pose[p, d], pose[j, d]) for d in range(3)], color=colour, lw=2)
            ax.scatter(pose[:, 0], pose[:, 1], pose[:, 2], s=4, color="k")
            g = np.linspace(-1, 1, 5)
            gx, gy = np.meshgrid(centre[0] + g, centre[1] + g)
            ax.plot_wireframe(gx, gy, np.zeros_like(gx), color="0.8", lw=0.5)
            ax.set_xlim(centre[0] - 0.9, centre[0] + 0.9)
            ax.set_ylim(centre[1] - 0.9, centre[1] + 0.9)
            ax.set_zlim(0, 1.8)
            ax.set_box_aspect((1, 1, 1), zoom=1.25)
            lr = pose[4, :2] - pose[1, :2]  # LHip - RHip  # facing = left x up; view from the front-right
            facing = np.rad2deg(np.arctan2(-lr[0], lr[1]))
            ax.view_init(elev=12, azim=facing + view_azim)
            ax.set_xticklabels([])
            ax.set_yticklabels([])
            ax.set_zticklabels([])
            ax.set_title(f"{action} t={t}", fontsize=8)
    fig.suptitle(f"{SYNTHETIC_NOTE} — subject {subject}", fontsize=10)
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.0, top=1.0 - 0.35 / n_rows, wspace=0.0, hspace=0.08)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path

"""How real do generated poses look? Distance to the nearest real pose, free of size and heading.

Every pose (world frame, Z up) is reduced to its 15 unit bone directions after turning it about the
vertical axis so that its hip line points along +X: bone lengths and heading no longer count, the
posture and its lean do. A generated pose is then compared with its nearest neighbour in a set of
real poses (nearest = largest sum of cosines between corresponding bones); the score is the mean
angle between the bones of the two, in degrees. Real poses of a subject that is not in the reference
set give the scale: a generator whose poses sit as close to the reference as those of an unseen
person makes poses that look like real ones.

Pure, batched torch: ``canonical_directions``, ``nearest_real_angle``.
"""

from __future__ import annotations

import torch

from ..skeleton import H36M16

_PARENTS = [p for p, _ in H36M16.bones]
_CHILDREN = [c for _, c in H36M16.bones]
_RHIP, _LHIP = H36M16.index("RHip"), H36M16.index("LHip")


def canonical_directions(world: torch.Tensor) -> torch.Tensor:
    """(..., 16, 3) world poses (Z up) -> (..., 15, 3) unit bone directions, each pose turned about Z
    so that its hip line (right hip -> left hip) points along +X."""
    hip = world[..., _LHIP, :2] - world[..., _RHIP, :2]
    yaw = torch.atan2(hip[..., 1], hip[..., 0])
    c, s = torch.cos(-yaw), torch.sin(-yaw)
    bones = world[..., _CHILDREN, :] - world[..., _PARENTS, :]
    x, y, z = bones.unbind(-1)
    turned = torch.stack([c[..., None] * x - s[..., None] * y, s[..., None] * x + c[..., None] * y, z], -1)
    return turned / turned.norm(dim=-1, keepdim=True).clamp_min(1e-9)


def nearest_real_angle(poses: torch.Tensor, reference: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """(N, 16, 3) poses, (M, 16, 3) real reference poses (world, Z up) -> (N,) mean angle in degrees
    between the bones of each pose and those of its nearest reference pose (see the module text)."""
    if poses.shape[-2:] != (16, 3) or reference.shape[-2:] != (16, 3):
        raise ValueError(f"poses {tuple(poses.shape)} and reference {tuple(reference.shape)} must be (N, 16, 3)")
    ref = canonical_directions(reference.to(torch.float32))
    ref_flat = ref.flatten(1)
    out = []
    for part in canonical_directions(poses.to(torch.float32)).split(chunk):
        best = (part.flatten(1) @ ref_flat.T).argmax(1)  # most cosine in sum = least squared distance
        cos = (part * ref[best]).sum(-1).clamp(-1, 1)
        out.append(torch.rad2deg(torch.acos(cos)).mean(-1))
    return torch.cat(out) if out else torch.zeros(0)

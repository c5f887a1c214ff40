"""The package's floors: every import (module level or inside a function) points to the same floor or a
lower one, so there is no import circle between floors and no arrow back up. Read from the source with
``ast``; a new module belongs to the floor of its package (or is named below)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dhaug"

#: From the bottom: errors and names; configuration and files; geometry, devices, checkpoints; data;
#: kinematics; pictures; augmentation; models; training and evaluation; the applications; the CLI.
FLOORS = [
    ["errors", "registry", "timing", "progress"],
    ["config", "files", "schedule"],
    ["precision", "device", "skeleton", "camera", "metrics", "checkpoint", "distributed"],
    ["data"],
    ["kinematics"],
    ["plots"],
    ["augment"],
    ["models"],
    ["optim", "evaluate", "train"],
    ["generate", "lift", "bvh_export", "demo", "show_poses"],
    ["cli", "__main__", "__init__"],
]


def floor(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    found = [i for i, names in enumerate(FLOORS) if top in names]
    assert found, f"dhaug.{top} is on no floor: add it to FLOORS in {__file__}"
    return found[0]


def imports(path: Path, text: str | None = None) -> list[tuple[str, int]]:
    """(imported dhaug module, line) of every import in ``path`` (or in ``text`` placed there), relative ones
    resolved."""
    parts = ["dhaug", *path.relative_to(PACKAGE).with_suffix("").parts]
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            if name.startswith("dhaug"):
                out.append((name if node.module or not node.names else f"{name}.{node.names[0].name}", node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("dhaug")]
    return out


def test_every_import_points_down_or_level():
    up = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = ".".join(["dhaug", *path.relative_to(PACKAGE).with_suffix("").parts])
        for target, line in imports(path):
            if target != "dhaug" and floor(target) > floor(me):
                up.append(
                    f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} (floor {floor(target)} > {floor(me)})"
                )
    assert not up, "imports pointing up a floor:\n" + "\n".join(up)


def test_the_check_finds_an_arrow_up():
    assert floor("dhaug.config") < floor("dhaug.augment.dhaug.trainer") < floor("dhaug.train") < floor("dhaug.cli")
    place = PACKAGE / "data" / "h36m.py"  # a made-up import at a real module's place
    assert imports(place, "import numpy\nfrom ..train import train\nfrom . import windows\n") == [
        ("dhaug.train", 2),
        ("dhaug.data.windows", 3),
    ]
    assert floor("dhaug.train") > floor("dhaug.data.h36m")

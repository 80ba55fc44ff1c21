"""The import rule of docs/architecture.md, read from every module's source.

Imports run one way::

    loihi_emu.hw <- microcode <- loihi_emu (image <- learning <- runtime)
                 <- compiler (network <- passes <- pipeline <- precision) <- loihi_cli

A module may import its own layer and the layers below it, never one above.
The compiler uses the emulator's contract (``hw``, ``errors``, ``rng``,
``image``); only ``compiler.precision`` and ``compiler.simulator`` run the
emulator. No project import hides inside a function body in the libraries.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("loihi_emu", "compiler", "microcode", "loihi_cli")
LIBRARIES = ("loihi_emu", "compiler", "microcode")

# (module prefix, layer); the longest matching prefix wins.
LAYERS = [
    ("loihi_emu.hw", 0),
    ("loihi_emu.errors", 0),
    ("loihi_emu.rng", 0),
    ("loihi_emu.sizes", 0),
    ("loihi_emu.safefile", 0),
    ("microcode", 1),
    ("loihi_emu.image", 2),
    ("loihi_emu.learning", 3),
    ("loihi_emu.runtime", 4),
    ("loihi_emu.results", 4),
    ("loihi_emu.plots", 4),
    ("loihi_emu.energy", 5),
    ("loihi_emu.conformance", 5),
    ("loihi_emu.vectors", 5),
    ("loihi_emu", 6),  # the lazy package root
    ("compiler.errors", 7),
    ("compiler.network", 8),
    ("compiler.passes", 9),
    ("compiler.report", 10),
    ("compiler.pipeline", 10),
    ("compiler.precision", 11),
    ("compiler.simulator", 11),
    ("compiler", 12),  # the package root and deprecated aliases
    ("loihi_cli", 13),
]
# What the compiler below its precision layer may take from the emulator: the contract.
CONTRACT = ("loihi_emu.hw", "loihi_emu.errors", "loihi_emu.rng", "loihi_emu.sizes", "loihi_emu.safefile",
            "loihi_emu.image")


def layer(module: str) -> int:
    best = max((p for p, _ in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return dict(LAYERS)[best]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every project import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                found.append((name, node.lineno, id(node) in top))
    return found


MODULES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_every_package_is_scanned():
    names = {module_name(p) for p in MODULES}
    for expected in ("loihi_emu.hw", "loihi_emu.image.core", "loihi_emu.runtime.emulator", "microcode.parser",
                     "compiler.network.model", "compiler.passes.quantize", "compiler.precision.reference"):
        assert expected in names


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_run_one_way(path: Path):
    me = module_name(path)
    mine = layer(me)
    for target, line, _ in project_imports(path):
        assert layer(target) <= mine, f"{me}:{line} imports {target}, a layer above it"
        if me.startswith("microcode"):
            assert not target.startswith("loihi_emu") or target == "loihi_emu.hw", (
                f"{me}:{line} imports {target}; microcode may use only loihi_emu.hw")
        if me.startswith("compiler") and layer(me) < layer("compiler.precision") and target.startswith("loihi_emu"):
            assert target.startswith(CONTRACT), (
                f"{me}:{line} imports {target}; below compiler.precision the compiler uses only {CONTRACT}")


@pytest.mark.parametrize("path", [p for p in MODULES if module_name(p).split(".")[0] in LIBRARIES], ids=module_name)
def test_no_project_import_is_deferred(path: Path):
    deferred = [(t, line) for t, line, top in project_imports(path) if not top]
    assert not deferred, f"{module_name(path)} imports {deferred} inside a function or block"


def test_the_rule_rejects_an_upward_import():
    # the checker itself must be able to fail
    assert layer("loihi_emu.image.core") < layer("loihi_emu.runtime.emulator")
    assert layer("compiler.passes.lower") < layer("compiler.precision.compare")
    assert layer("microcode.parser") > layer("loihi_emu.hw")


@pytest.mark.parametrize("module", ["microcode", "loihi_emu.hw", "loihi_emu.image", "loihi_emu"])
def test_import_loads_no_numba(module: str):
    code = f"import sys, {module}; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False", f"import {module} loads numba"


def test_public_names_from_the_package_roots():
    code = ("from loihi_emu import Emulator, build_image, load, save, Probe, LOIHI1; "
            "from compiler import Network, compile; "
            "from microcode import parse, assemble, disassemble; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("old, new, name", [
    ("loihi_emu.vectors", "loihi_emu.conformance", "load_vector"),
    ("compiler.netfile", "compiler.network.netfile", "load_network"),
])
def test_old_module_paths_still_work_with_a_deprecation(old: str, new: str, name: str):
    code = (f"import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
            f"try:\n    import {old}\nexcept DeprecationWarning as w:\n    print('deprecated')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "deprecated", out.stderr
    import importlib
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new), name)


def test_no_library_module_is_much_over_400_lines():
    long = {module_name(p): n for p in MODULES if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert not long, f"modules over ~400 lines: {long}"


def test_docs_and_tests_stay_inside_the_repository():
    offenders = []
    for path in [*ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("tests/*.py"), *ROOT.glob("examples/*.py")]:
        text = path.read_text(encoding="utf-8")
        for needle in ("../shared", "/work/", "shared/SEMANTICS", "shared/DESIGN"):
            if needle in text and path.name != "test_architecture.py":
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not offenders, offenders

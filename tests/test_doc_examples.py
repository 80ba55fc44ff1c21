"""Every fenced ```python and ```json block in README.md and docs/*.md runs as written.

Python blocks of one file run in order in one namespace (a later block may
use what an earlier one defined), in a temporary working directory with the
repository's ``examples/`` copied in. JSON blocks must parse; a network file
(``"format": "loihi-net/1"``) must also load with the network loader and
compile. Blocks needing matplotlib are skipped without it. A block that is
not meant to run is written as ```text.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(python|json)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(path: Path) -> list[tuple[str, int, str]]:
    text = path.read_text()
    return [(m.group(1), text[: m.start()].count("\n") + 1, m.group(2)) for m in FENCE.finditer(text)]


@pytest.mark.parametrize("path", [p for p in FILES if p.exists() and blocks(p)], ids=lambda p: p.name)
def test_doc_blocks_run(path, tmp_path, monkeypatch):
    from compiler import compile
    from compiler.network.netfile import network_from_dict

    if "from_nir" in path.read_text() or "to_nir" in path.read_text():
        pytest.importorskip("nir")
        pytest.importorskip("h5py")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "tests" / "data", tmp_path / "tests" / "data")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"doc:{path.name}"}
    for kind, line, code in blocks(path):
        where = f"{path.name}:{line}"
        if kind == "json":
            try:
                doc = json.loads(code)
            except json.JSONDecodeError as exc:
                pytest.fail(f"{where}: the JSON block does not parse ({exc})")
            if isinstance(doc, dict) and doc.get("format") == "loihi-net/1":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    compile(network_from_dict(doc, tmp_path, where))
            continue
        if "matplotlib" in code or ".plot(" in code or "plot_" in code:
            pytest.importorskip("matplotlib")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile_block(code, where), namespace)
        except Exception as exc:  # noqa: BLE001 - report which block failed
            pytest.fail(f"{where}: the Python block fails: {type(exc).__name__}: {exc}")


def compile_block(code: str, where: str):
    return compile(code, where, "exec")  # builtin compile (the compiler's is imported inside the test)


def test_every_doc_file_is_scanned():
    assert sum(len(blocks(p)) for p in FILES if p.exists()) >= 5

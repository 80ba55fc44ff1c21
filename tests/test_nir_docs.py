"""Every ```python block of docs/nir.md runs as written (in order, one namespace, from the repository root)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("nir")
pytest.importorskip("h5py")

ROOT = Path(__file__).resolve().parents[1]


def test_nir_doc_examples_run(monkeypatch, capsys):
    text = (ROOT / "docs" / "nir.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 6
    monkeypatch.chdir(ROOT)
    ns: dict = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"docs/nir.md[python block {i}]", "exec"), ns)  # noqa: S102
    out = capsys.readouterr().out
    assert "NIR import of tests/data/nir/snntorch_lif_zero.nir" in out
    assert "precision of network" in out

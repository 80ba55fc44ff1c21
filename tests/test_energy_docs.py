"""Every ```python block of docs/energy.md runs as written (in order, one namespace, in a temporary folder)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "energy.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_energy_doc_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    found = blocks()
    assert len(found) >= 4
    has_plot = importlib.util.find_spec("matplotlib") is not None
    ns: dict = {}
    for code in found:
        if "plot_per_core" in code and not has_plot:
            continue
        exec(compile(code, str(DOC), "exec"), ns)  # noqa: S102
    out = capsys.readouterr().out
    assert "energy estimate (davies2018)" in out and "sanafe_loihi" in out
    assert (tmp_path / "mine.json").is_file()
    assert not has_plot or (tmp_path / "energy_per_core.png").stat().st_size > 0

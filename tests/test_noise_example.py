"""examples/noisy_wta.py runs in seconds and shows what it claims: noise breaks the tie."""

import importlib.util
from pathlib import Path


def _example():
    path = Path(__file__).parent.parent / "examples" / "noisy_wta.py"
    spec = importlib.util.spec_from_file_location("noisy_wta", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_noisy_wta_breaks_the_tie(capsys):
    out = _example().main(["--steps", "1500", "--seed", "2"])
    quiet, noisy = out["quiet"], out["noisy"]
    assert len(set(quiet["counts"])) == 1 and quiet["counts"][0] > 0 and quiet["single_winner"] == 0.0
    assert noisy["single_winner"] > 0.9 and min(noisy["counts"]) > 0
    assert "with noise" in capsys.readouterr().out

"""examples/coincidence_detector.py runs in seconds and shows what it claims: only coincident inputs fire the soma."""

import importlib.util
from pathlib import Path


def _example():
    path = Path(__file__).parent.parent / "examples" / "coincidence_detector.py"
    spec = importlib.util.spec_from_file_location("coincidence_detector", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_coincidence_detector_fires_only_inside_the_window(capsys):
    out = _example().main(["--lags", "10", "--tau", "4"])
    w = out["window"]
    assert 2 <= w <= 6
    assert out["fired"] == [lag < w for lag in range(9)] + [False]  # the last neuron gets A only
    assert out["reference_agrees"]
    assert "soma silent" in capsys.readouterr().out

"""examples/reward_stdp.py runs in seconds and learns the rewarded association."""

import importlib.util
from pathlib import Path

import pytest


def _example():
    path = Path(__file__).parent.parent / "examples" / "reward_stdp.py"
    spec = importlib.util.spec_from_file_location("reward_stdp", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_reward_stdp_learns_which_pattern_drives_the_output(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "w.png"
    out = _example().main(["--episodes", "48", "--seed", "0", "--plot", str(plot)])
    assert out["w_B"][-1] == out["w_B"][0]  # never rewarded: unchanged
    assert out["w_A"][-1] > 3 * out["w_A"][0]  # rewarded: potentiated
    a_after, b_after = out["after"]
    a_before, _ = out["before"]
    assert a_after > a_before and a_after > 1.5 * b_after
    assert plot.stat().st_size > 0 and "after learning" in capsys.readouterr().out

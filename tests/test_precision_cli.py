"""``loihi-emu precision`` through loihi_cli.main.main (loihi_cli/precision_cmds.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compiler import Network
from compiler.network.netfile import save_network
from loihi_cli.main import main


def write_net(tmp_path) -> str:
    net = Network("clinet")
    net.add_input("in", spikes=(np.arange(60)[:, None] % np.array([3, 5]) == 0))
    net.add_population("a", 3, tau_u=2, tau_v=9.5, vth=1.0, bias=0.02)
    net.connect("in", "a", weights=[[0.3, 0.1, 0.7], [0.2, 0.6, 0.05]])
    path = tmp_path / "net.json"
    save_network(net, path)
    return str(path)


def test_precision_prints_the_report(tmp_path, capsys):
    path = write_net(tmp_path)
    assert main(["precision", path, "--steps", "60"]) == 0
    out = capsys.readouterr().out
    assert "precision of network 'clinet': 60 steps" in out
    assert "fixed-point wrap-arounds: q 0, u 0, u2 0" in out
    assert any(line.startswith("a ") for line in out.splitlines())


def test_precision_json_with_sweep(tmp_path, capsys):
    path = write_net(tmp_path)
    assert main(["precision", path, "--steps", "40", "--json", "--sweep-bits", "--vr-tau", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["steps"] == 40 and doc["van_rossum_tau_steps"] == 3.0
    assert [r["weight_bits"] for r in doc["sweep"]["rows"]] == list(range(1, 10))
    assert doc["populations"][0]["size"] == 3


def test_precision_plot_dir(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = write_net(tmp_path)
    out_dir = tmp_path / "figs"
    assert main(["precision", path, "--steps", "30", "--plot", str(out_dir)]) == 0
    assert (out_dir / "raster.png").exists() and (out_dir / "voltages.png").exists()
    assert "wrote" in capsys.readouterr().out


def test_precision_missing_file_is_an_error(tmp_path, capsys):
    assert main(["precision", str(tmp_path / "none.json"), "--steps", "5"]) == 1
    assert "loihi-emu precision" in capsys.readouterr().err

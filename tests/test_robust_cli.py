"""Issue 10, command line: one line per error, exit codes 0/1/2/130, safe outputs, Ctrl-C, checkpoints."""

import json
import signal
import sys

import numpy as np
import pytest
from netgen import image_on_cores, random_network

import loihi_emu.runtime.emulator as emulator_module
from loihi_cli.main import main
from loihi_emu import Emulator, save

STEPS = 60


@pytest.fixture
def board(tmp_path):
    regs, syn, inputs = random_network(7, max_delay=3)
    save(image_on_cores(regs, syn, 6, np.arange(40) % 3), tmp_path / "b.npz")
    np.savez(tmp_path / "in.npz", spikes=inputs)
    return tmp_path


def run_args(d, *extra, out="out.npz"):
    return ["run", str(d / "b.npz"), "--steps", str(STEPS), "--inputs", str(d / "in.npz"), "--probe", "spikes,v",
            "-o", str(d / out), "--quiet", *extra]


def one_error_line(capsys, command):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"loihi-emu {command}: ") and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("argv, command, fragment", [
    (["run", "{d}/missing.npz", "--steps", "3", "-o", "{d}/o.npz"], "run", "MissingFileError"),
    (["info", "{d}/missing.npz"], "info", "MissingFileError"),
    (["conform", "{d}/missing"], "conform", "MissingFileError"),
    (["compile", "{d}/missing.json", "-o", "{d}/o.npz"], "compile", "NetworkFileError"),
    (["run", "{d}/b.npz", "--steps", "3", "-o", "{d}/nofolder/o.npz"], "run", "does not exist"),
    (["run", "{d}/b.npz", "--steps", "3", "-o", "{d}"], "run", "is a folder"),
    (["run", "{d}/b.npz", "--steps", "3", "-o", "{d}/b.npz"], "run", "is also an input"),
    (["run", "{d}/b.npz", "--steps", "3", "-o", "{d}/in.npz", "--inputs", "{d}/in.npz"], "run", "also an input"),
    (["run", "{d}/b.npz", "--steps", "1000000000000", "-o", "{d}/o.npz"], "run", "SizeError"),
    (["run", "{d}/b.npz", "--steps", "3", "-o", "{d}/o.npz", "--probe", "vv"], "run", "ProbeError"),
    (["run", "{d}/b.npz", "--steps", "3", "-o", "{d}/o.npz", "--resume", "{d}/in.npz"], "run", "StateFileError"),
    (["demo", "--steps", "3", "--plot", "{d}/nofolder/r.png"], "demo", "does not exist"),
    (["info", "/dev/zero"], "info", "not a regular file"),
])
def test_errors_are_one_line_with_exit_1(board, capsys, argv, command, fragment):
    argv = [a.format(d=board) for a in argv]
    assert main(argv) == 1
    assert fragment in one_error_line(capsys, command)


@pytest.mark.parametrize("argv, command", [
    (["demo", "--steps", "-1"], "demo"),
    (["run", "x.npz", "--steps", "x", "-o", "o.npz"], "run"),
    (["compile", "net.json", "-o", "b.npz", "--chips", "0"], "compile"),
    (["run", "x.npz"], "run"),
    (["frobnicate"], "frobnicate"),
    (["run", "b.npz", "--steps", "3", "-o", "o.npz", "--checkpoint-every", "0"], "run"),
])
def test_usage_errors_exit_2(capsys, argv, command):
    assert main(argv) == 2
    assert "usage:" in one_error_line(capsys, command)


def test_debug_shows_the_traceback(board, capsys):
    assert main(["info", str(board / "missing.npz"), "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("loihi-emu info: MissingFileError")


@pytest.mark.parametrize("values, fragment", [([0.5], "kinds"), ([256], "= 256"), ([-255], "= -255")])
def test_run_inputs_are_checked_not_cast(board, capsys, values, fragment):
    spikes = np.zeros((STEPS, 6), np.float64 if isinstance(values[0], float) else np.int64)
    spikes[5, 2] = values[0]
    np.savez(board / "in.npz", spikes=spikes)
    assert main(run_args(board)) == 1
    assert fragment in one_error_line(capsys, "run")


def test_run_writes_exactly_the_name_it_prints_and_keeps_old_output_on_failure(board, capsys, monkeypatch):
    assert main(run_args(board, out="probes.out")) == 0
    assert f"to {board / 'probes.out'}" in capsys.readouterr().out
    assert not (board / "probes.out.npz").exists()
    good = (board / "probes.out").read_bytes()

    def full_disk(fh, **arrays):
        fh.write(b"PK")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    assert main(run_args(board, out="probes.out")) == 1
    assert "No space left on device" in one_error_line(capsys, "run")
    assert (board / "probes.out").read_bytes() == good
    assert sorted(p.name for p in board.iterdir()) == ["b.npz", "in.npz", "probes.out"]


def test_a_failing_run_leaves_no_output(board, capsys):
    np.savez(board / "in.npz", spikes=np.zeros((STEPS + 1, 6), np.uint8))
    assert main(run_args(board)) == 1
    assert "InputError" in one_error_line(capsys, "run") and not (board / "out.npz").exists()


def test_compile_refuses_the_networks_side_file(tmp_path, capsys):
    from compiler.network.netfile import load_network

    doc = {"format": "loihi-net/1", "arrays": "net.npz", "populations": [
        {"name": "in", "size": 4, "input": {"kind": "rate", "intensity": 0.1}}, {"name": "a", "size": 3}],
        "projections": [{"pre": "in", "post": "a", "weights": "@w"}]}
    (tmp_path / "net.json").write_text(json.dumps(doc))
    np.savez(tmp_path / "net.npz", w=np.full((4, 3), 0.5))
    assert main(["compile", str(tmp_path / "net.json"), "-o", str(tmp_path / "net.npz")]) == 1
    assert "is also an input" in one_error_line(capsys, "compile")
    assert load_network(tmp_path / "net.json").n_synapses == 12
    assert main(["compile", str(tmp_path / "net.json"), "-o", str(tmp_path / "net.json")]) == 1
    capsys.readouterr()
    assert main(["compile", str(tmp_path / "net.json"), "-o", str(tmp_path / "board.npz")]) == 0


def test_compile_with_bad_encoder_fails_at_compile_time(tmp_path, capsys):
    doc = {"format": "loihi-net/1", "populations": [
        {"name": "in", "size": 4, "input": {"kind": "rate", "intensity": 0.1, "seed": None}}, {"name": "a", "size": 3}],
        "projections": [{"pre": "in", "post": "a", "weights": [[0.5] * 3] * 4}]}
    (tmp_path / "net.json").write_text(json.dumps(doc))
    assert main(["compile", str(tmp_path / "net.json"), "-o", str(tmp_path / "b.npz")]) == 1
    assert "populations[0].input.seed: must be a number, got null" in one_error_line(capsys, "compile")
    assert not (tmp_path / "b.npz").exists()


def test_warnings_print_as_one_line(tmp_path, capsys):
    doc = {"format": "loihi-net/1", "populations": [{"name": "in", "size": 2, "input": {"kind": "spikes"}},
                                                    {"name": "a", "size": 2}],
           "projections": [{"pre": "in", "post": "a", "weights": [[1.0, 0.0001], [0.5, 0.25]]}]}
    (tmp_path / "net.json").write_text(json.dumps(doc))
    assert main(["compile", str(tmp_path / "net.json"), "-o", str(tmp_path / "b.npz")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith("warning: ") and line.endswith("(QuantizationWarning)") for line in err)


class _ClosedPipe:
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        raise ValueError("no descriptor")


def test_broken_pipe_is_quiet(board, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["info", str(board / "b.npz")]) == 1
    assert capsys.readouterr().err == ""


def _interrupt_at(monkeypatch, step):
    """Make the emulator deliver a real SIGINT once it has passed ``step``."""
    real = emulator_module.Emulator.run

    def run(self, steps, inputs=None, progress=False):
        real(self, steps, inputs, progress)
        if self.t >= step and not getattr(self, "_interrupted", False):
            self._interrupted = True
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(emulator_module.Emulator, "run", run)


def test_ctrl_c_saves_a_marked_partial_result(board, capsys, monkeypatch):
    _interrupt_at(monkeypatch, 17)
    assert main(run_args(board)) == 130
    assert "interrupted: ran" in capsys.readouterr().out
    with np.load(board / "out.npz", allow_pickle=False) as f:
        done = int(f["extra.steps_done"])
        assert bool(f["extra.partial"]) and 17 <= done < STEPS and f["v"].shape == (done, 40)
        partial_v = f["v"]
    monkeypatch.undo()
    full = Emulator(__import__("loihi_emu").load(board / "b.npz"), probes=["spikes", "v"])
    with np.load(board / "in.npz") as f:
        full.run(STEPS, f["spikes"])
    np.testing.assert_array_equal(partial_v, full.data["v"][:done])


def test_hard_interrupt_exits_130_and_writes_nothing(board, capsys, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(emulator_module.Emulator, "run", boom)
    assert main(run_args(board)) == 130
    assert one_error_line(capsys, "run") == "loihi-emu run: interrupted" and not (board / "out.npz").exists()


def test_checkpoint_and_resume_are_bit_identical(board, capsys, monkeypatch):
    assert main(run_args(board, out="full.npz")) == 0
    _interrupt_at(monkeypatch, 23)
    ck = board / "ck.npz"
    assert main(run_args(board, "--checkpoint-every", "10", "--checkpoint", str(ck))) == 130
    monkeypatch.undo()
    assert ck.exists()
    assert main(run_args(board, "--resume", str(ck), out="resumed.npz")) == 0
    with np.load(board / "full.npz") as a, np.load(board / "resumed.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert main(run_args(board, "--resume", str(ck), "--checkpoint-every", "10", "--checkpoint", str(ck),
                         out="again.npz")) == 0  # resume and keep checkpointing into the same file
    with np.load(board / "full.npz") as a, np.load(board / "again.npz") as b:
        np.testing.assert_array_equal(a["v"], b["v"])
    capsys.readouterr()
    assert main(run_args(board, "--resume", str(ck), "--probe", "u", out="other.npz")) == 1
    assert "StateFileError" in one_error_line(capsys, "run")

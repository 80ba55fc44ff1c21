"""Board image format 3 (loihi_emu.image.store): round trips, saved files of every version, chip-wise
reading, sections, bad files and linear load time."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from loihi_emu import Emulator, ImageError, ImageFileError, build_image, load, save
from loihi_emu.image import npzmap, pages, store

DATA = Path(__file__).parent / "data"


def _expected():
    return dict(np.load(DATA / "board-expected.npz"))


@pytest.mark.parametrize("name", ["board-v1.npz", "board-v3.npz"])
def test_saved_file_of_every_version_loads_and_runs_the_same(name):
    want = _expected()
    image = load(DATA / name)
    emu = Emulator(image, probes=("spikes", "v", "w"))
    emu.run(want["inputs"].shape[0], want["inputs"])
    for q in ("spikes", "v", "w"):
        np.testing.assert_array_equal(emu.data[q], want[q], err_msg=f"{name}: {q}")
    assert want["spikes"].sum() > 0 and len(image.chips) == 2 and any(c.learning.n for c in image.cores)


def test_v1_and_v3_files_hold_the_same_image_and_v3_round_trips(tmp_path):
    v1, v3 = load(DATA / "board-v1.npz"), load(DATA / "board-v3.npz")
    assert store.format_of(DATA / "board-v3.npz") == "loihi-image/3"
    assert store.format_of(DATA / "board-v1.npz") == "loihi-image/1"
    assert v1.equals(v3)
    save(v1, tmp_path / "again.npz")  # the default writer is format 3
    assert store.format_of(tmp_path / "again.npz") == store.FORMAT
    assert load(tmp_path / "again.npz").equals(v1)
    np.load(tmp_path / "again.npz")  # still a plain .npz to numpy


def test_members_are_memory_mapped_aligned_and_uncompressed(tmp_path):
    path = tmp_path / "b.npz"
    save(load(DATA / "board-v1.npz"), path)
    with zipfile.ZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
    m = npzmap.NpzMap(path)
    arr = m.array("chip0.synapses.target")
    mm = pages.mapping_of(arr)
    assert mm is not None and arr.ctypes.data % npzmap.ALIGN == 0 and not arr.flags.writeable
    image = store.load(path)
    assert pages.mapping_of(image.cores[0].synapses.wmant) is not None
    before = image.cores[0].synapses.wmant.copy()
    pages.release(image.cores[0].synapses.wmant, np.zeros(3))  # drops resident pages, keeps the data
    np.testing.assert_array_equal(image.cores[0].synapses.wmant, before)


def test_a_reader_of_one_chip_touches_only_that_chips_members(tmp_path, monkeypatch):
    path = tmp_path / "b.npz"
    image = load(DATA / "board-v1.npz")
    save(image, path)
    opened = []
    real = npzmap.NpzMap.array
    monkeypatch.setattr(npzmap.NpzMap, "array", lambda self, name: opened.append(name) or real(self, name))
    s = store.ImageStore(path)
    assert s.sizes == {0: {"cores": 2, "compartments": 20, "synapses": 179},
                       1: {"cores": 1, "compartments": 10, "synapses": 81}}
    opened.clear()
    cores = s.chip_cores(1)
    assert {n.split(".")[0] for n in opened} == {"chip1"}
    want = [c for c in image.cores if c.chip == 1]
    assert [c.address for c in cores] == [c.address for c in want]
    assert all(a.synapses.equals(b.synapses) and a.routes.equals(b.routes) for a, b in zip(cores, want))
    with pytest.raises(ImageFileError, match="no chip 7"):
        s.chip_cores(7)


class Program:
    """A stand-in for an image-level section object (to_arrays / from_arrays)."""

    def __init__(self, name, steps):
        self.name, self.steps = name, np.asarray(steps, np.int32)

    def to_arrays(self):
        return {"name": self.name}, {"steps": self.steps, "grid": np.arange(6, dtype=np.int16).reshape(2, 3)}

    @classmethod
    def from_arrays(cls, meta, arrays):
        return cls(meta["name"], arrays["steps"])


def test_sections_round_trip_without_layout_code(tmp_path):
    path = tmp_path / "s.npz"
    image = load(DATA / "board-v1.npz")
    save(image, path, sections={"program": Program("p1", [3, 1, 4]), "raw": ({"k": [1, 2]}, {})})
    s = store.ImageStore(path)
    assert s.sections == ["program", "raw"]
    meta, arrays = s.section("program")
    back = Program.from_arrays(meta, arrays)
    assert back.name == "p1" and back.steps.tolist() == [3, 1, 4]
    assert arrays["grid"].shape == (2, 3) and arrays["grid"].dtype == np.int16
    assert s.section("raw") == ({"k": [1, 2]}, {})
    assert s.image().equals(image)
    with pytest.raises(ImageFileError, match="no section 'missing'"):
        s.section("missing")
    with pytest.raises(ImageError, match="section 'bad'"):
        save(image, tmp_path / "t.npz", sections={"bad": 42})
    assert not (tmp_path / "t.npz").exists()


def _rewrite(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = edit(item.filename[:-4], zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)


def _npy(arr):
    import io

    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _header_edit(change):
    def edit(name, data):
        if name != "header":
            return data
        h = json.loads(str(np.load(__import__("io").BytesIO(data))))
        change(h)
        return _npy(np.array(json.dumps(h)))
    return edit


@pytest.mark.parametrize(
    "edit,fragment",
    [
        (lambda n, d: None if n == "chip1.synapses.wmant" else d, "'chip1.synapses.wmant' is missing"),
        (lambda n, d: _npy(np.zeros(3, np.float32)) if n == "chip0.synapses.wmant" else d, "expected 1-D int16"),
        (lambda n, d: _npy(np.zeros(5, np.int64)) if n == "chip0.offsets" else d, "'chip0.offsets' has 5 entries"),
        (lambda n, d: _npy(np.array([b"x"], dtype=object)) if n == "chip0.synapses.fmt" else d, "unreadable"),
        (lambda n, d: _npy(np.full(np.load(__import__("io").BytesIO(d)).size, 99, np.uint8))
         if n == "chip0.synapses.delay" else d, "delay[0] = 99 is outside 0..62"),
        (_header_edit(lambda h: h.update(format="loihi-image/9")), "'loihi-image/5']"),
        (_header_edit(lambda h: h["chips"].pop("1")), "header 'chips' must list every chip"),
        (_header_edit(lambda h: h["fields"]["synapses"].remove("target")), "lacks synapses.target"),
    ],
)
def test_bad_v3_files_give_typed_errors_naming_the_member(tmp_path, edit, fragment):
    src = tmp_path / "ok.npz"
    save(load(DATA / "board-v1.npz"), src)
    dst = tmp_path / "bad.npz"
    _rewrite(src, dst, edit)
    with pytest.raises((ImageFileError, ImageError)) as err:
        load(dst)
    assert fragment in str(err.value)


def test_truncated_v3_file_is_a_typed_error(tmp_path):
    src = tmp_path / "ok.npz"
    save(load(DATA / "board-v1.npz"), src)
    (tmp_path / "cut.npz").write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(ImageFileError):
        load(tmp_path / "cut.npz")


def test_failed_save_keeps_the_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "b.npz"
    image = load(DATA / "board-v1.npz")
    save(image, path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(npzmap.NpzWriter, "add", boom)
    with pytest.raises(OSError, match="disk full"):
        save(image, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["b.npz"]


def _many_cores(n_cores: int):
    """n_cores cores of 4 compartments on n_cores // 32 + 1 chips, a ring of synapses."""
    n = 4 * n_cores
    regs = dict(decay_u_reg=100, decay_v=100, vth_mant=100, bias_mant=0, bias_exp=0, refract=1, vmin=-(1 << 23),
                vmax=(1 << 23) - 1)
    g = np.arange(n) // 4
    core_of = (g // 32) * 128 + g % 32
    pre = np.arange(n)
    return build_image(regs, core_of, n_in=1, syn_pre=np.concatenate([[0], pre + 1]),
                       syn_post=np.concatenate([[0], (pre + 5) % n]), syn_wmant=np.ones(n + 1, int))


def test_load_is_linear_in_cores(tmp_path, monkeypatch):
    """4x the cores: member reads grow with chips only, and load time stays far below quadratic (16x)."""
    paths, reads, best = {}, {}, {}
    real = npzmap.NpzMap.array
    for k in (40, 160):
        paths[k] = tmp_path / f"k{k}.npz"
        save(_many_cores(k), paths[k])
    for k, p in paths.items():
        count = []
        monkeypatch.setattr(npzmap.NpzMap, "array", lambda self, name, c=count: c.append(name) or real(self, name))
        image = load(p)
        monkeypatch.setattr(npzmap.NpzMap, "array", real)
        assert len(image.cores) == k
        n_fields = sum(len(c.DTYPES) for c in store.CORE_TABLES.values())
        reads[k] = len(count) - len(image.chips) * (n_fields + 1)  # reads beyond one per field and chip
        assert 0 <= reads[k] <= 8
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            load(p)
            times.append(time.perf_counter() - t0)
        best[k] = min(times)
    assert reads[160] == reads[40]
    assert best[160] < 8 * best[40], best


def test_build_image_still_builds_the_saved_board():
    """The v1 file was written by the build_image of its day: today's must lay out the same tables."""
    import sys

    sys.path.insert(0, str(DATA))
    from make_board_files import board

    image, inputs = board()
    assert image.equals(load(DATA / "board-v1.npz"))
    np.testing.assert_array_equal(inputs, _expected()["inputs"])

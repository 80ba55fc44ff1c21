"""Issue 10, files: the one npz reader, regular files only, atomic writes, board images, vectors, build_image."""

import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from netgen import image_on_cores, random_network

from loihi_emu import build_image, load, save
from loihi_emu.conformance import load_vector
from loihi_emu.errors import (
    FileAccessError,
    ImageError,
    ImageFileError,
    MissingFileError,
    SizeError,
    UnsafePathError,
)
from loihi_emu.image.file import save as save_v2
from loihi_emu.image.npzread import NpzFile, read_npz
from loihi_emu.safefile import atomic_write, check_output
from loihi_emu.sizes import check_alloc

VEC = Path(__file__).parent / "vectors" / "cuba" / "cuba_00_feedforward_s9000.npz"


def small_image():
    regs, syn, inputs = random_network(1, max_delay=2)
    return image_on_cores(regs, syn, 6, np.arange(40) % 2)


def members(path) -> dict:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def huge_member(path: Path, arrays: dict, name: str, shape=(10**11,), descr="<i4") -> None:
    """An npz with ``arrays`` plus member ``name`` whose header claims ``shape`` (data: a few bytes)."""
    with zipfile.ZipFile(path, "w") as z:
        for k, v in arrays.items():
            if k == name:
                continue
            with z.open(f"{k}.npy", "w") as fh:
                np.lib.format.write_array(fh, v)
        with z.open(f"{name}.npy", "w") as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": descr, "fortran_order": False, "shape": shape})
            fh.write(b"\x00" * 64)


def test_reader_round_trips_dtypes_orders_and_empty_arrays(tmp_path):
    arrays = {"a": np.arange(10).reshape(2, 5), "b": np.array("hello"), "c": np.zeros((0, 3)),
              "f": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "big": np.arange(5, dtype=">i2")}
    np.savez_compressed(tmp_path / "t.npz", **arrays)
    got = read_npz(tmp_path / "t.npz")
    for k, v in arrays.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape and np.array_equal(got[k], v)


def test_reader_checks_the_header_before_reading(tmp_path):
    huge_member(tmp_path / "h.npz", {}, "x")
    with NpzFile(tmp_path / "h.npz") as f:
        assert f.header("x")[0] == (10**11,)
        with pytest.raises(ImageFileError, match=r"member 'x' .*needs 400000000000 bytes \(372.5 GiB\); the limit is"):
            f.read("x")
    huge_member(tmp_path / "t.npz", {}, "x", shape=(1000,))
    with NpzFile(tmp_path / "t.npz") as f, pytest.raises(ImageFileError, match="truncated"):
        f.read("x")


def test_allocation_limit_names_the_request_and_the_limit(monkeypatch):
    monkeypatch.setattr("loihi_emu.sizes.MAX_BYTES", 1000)
    with pytest.raises(SizeError, match=r"thing: needs 8000 bytes \(7.8 KiB\); the limit is 1000 bytes") as err:
        check_alloc("thing", 1000, 8)
    assert err.value.asked == 8000 and err.value.limit == 1000
    assert check_alloc("thing", 125, 8) == 125


def test_fifo_and_devices_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "f.npz")
    for path in (tmp_path / "f.npz", "/dev/zero"):
        with pytest.raises(UnsafePathError, match="not a regular file"):
            load(path)
        with pytest.raises(UnsafePathError):
            load_vector(path)
    with pytest.raises(UnsafePathError, match="folder"):
        load(tmp_path)
    with pytest.raises(MissingFileError) as err:
        load(tmp_path / "missing.npz")
    assert isinstance(err.value, FileNotFoundError)


@pytest.mark.parametrize("writer", ["v3", "v2"])
def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch, writer):
    image = small_image()
    target = tmp_path / "b.npz"
    write = save if writer == "v3" else save_v2
    write(image, target)
    good = target.read_bytes()

    def full_disk(*args, **arrays):
        raise OSError(28, "No space left on device")

    if writer == "v3":
        monkeypatch.setattr("loihi_emu.image.npzmap.NpzWriter.add", full_disk)
    else:
        monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(FileAccessError, match="No space left on device"):
        write(image, target)
    assert target.read_bytes() == good and os.listdir(tmp_path) == ["b.npz"]


def test_save_writes_exactly_the_name_given(tmp_path):
    save(small_image(), tmp_path / "board.img")
    assert os.listdir(tmp_path) == ["board.img"] and load(tmp_path / "board.img").n_compartments == 40


def test_output_checks(tmp_path, monkeypatch):
    with pytest.raises(MissingFileError, match="does not exist"):
        check_output(tmp_path / "nope" / "o.npz")
    with pytest.raises(UnsafePathError, match="is a folder"):
        check_output(tmp_path)
    (tmp_path / "in.npz").write_bytes(b"x")
    with pytest.raises(UnsafePathError, match="is also an input"):
        check_output(tmp_path / "." / "in.npz", [tmp_path / "in.npz"])

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", denied)
    with pytest.raises(FileAccessError, match="Permission denied"), atomic_write(tmp_path / "o.npz"):
        pass


@pytest.mark.parametrize("name, shape, descr", [("core0.synapses.wmant", (10**11,), "<i2"),
                                                ("inputs.ptr", (10**11,), "<i8"),
                                                ("header", (), "<U100000000")])
def test_board_image_member_claiming_huge_size(tmp_path, name, shape, descr):
    save_v2(small_image(), tmp_path / "b.npz")  # the per-core layout (format 2)
    huge_member(tmp_path / "h.npz", members(tmp_path / "b.npz"), name, shape, descr)
    with pytest.raises(ImageFileError, match="needs|at most|truncated|expected"):
        load(tmp_path / "h.npz")


@pytest.mark.parametrize("header, fragment", [
    ('{"format": "loihi-image/1", "spec": ["loihi1"], "cores": []}', "unknown hardware spec"),
    ('{"format": "loihi-image/1", "spec": "loihi1", "cores": [[0, 200]]}', "outside"),
    ('{"format": "loihi-image/1", "spec": "loihi1", "cores": [[0, 0], [0, 0]]}', "twice"),
    ('{"format": "loihi-image/1", "spec": "loihi1", "cores": [[0.5, 0]]}', "integer pairs"),
    ("[" * 50000 + "]" * 50000, "not valid JSON"),
])
def test_board_image_bad_headers(tmp_path, header, fragment):
    save(small_image(), tmp_path / "b.npz")
    arrays = members(tmp_path / "b.npz")
    arrays["header"] = np.array(header)
    np.savez(tmp_path / "x.npz", **arrays)
    with pytest.raises(ImageFileError, match=fragment):
        load(tmp_path / "x.npz")


def test_corrupt_deflate_stream_in_an_image_and_a_vector(tmp_path):
    save(small_image(), tmp_path / "b.npz")
    for src, loader in ((tmp_path / "b.npz", load), (VEC, load_vector)):
        np.savez_compressed(tmp_path / "c.npz", **members(src))
        raw = bytearray((tmp_path / "c.npz").read_bytes())
        for i in range(200, len(raw) - 400, 97):
            raw[i] ^= 0xFF
        (tmp_path / "c.npz").write_bytes(bytes(raw))
        with pytest.raises(ImageFileError):
            loader(tmp_path / "c.npz")


@pytest.mark.parametrize("name, shape", [("syn_pre", (10**11,)), ("in_spikes", (10**6, 10**5)),
                                         ("out_v", (10**6, 10**5)), ("decay_u_reg", (10**11,))])
def test_vector_member_claiming_huge_size(tmp_path, name, shape):
    huge_member(tmp_path / "v.npz", members(VEC), name, shape)
    with pytest.raises(ImageFileError, match="needs|truncated"):
        load_vector(tmp_path / "v.npz")


@pytest.mark.parametrize("member, edit, fragment", [
    ("decay_u", lambda a: a + 1, r"'decay_u'\[0\] = .* contradicts the registers"),
    ("vth", lambda a: a * 2, "'vth'.*contradicts"),
    ("syn_w", lambda a: -a - 64, "'syn_w'.*contradicts"),
    ("in_spikes", lambda a: a * 2, "values other than 0 and 1"),
    ("syn_pre", lambda a: a.astype(np.float64), "kinds"),
    ("meta", lambda a: np.array("[" * 40000 + "]" * 40000), "not valid JSON"),
])
def test_vector_members_that_contradict_or_are_malformed(tmp_path, member, edit, fragment):
    arrays = members(VEC)
    arrays[member] = edit(arrays[member])
    np.savez(tmp_path / "v.npz", **arrays)
    with pytest.raises(ImageFileError, match=fragment):
        load_vector(tmp_path / "v.npz")


def test_vector_learning_metadata_of_the_wrong_type(tmp_path):
    src = next((Path(__file__).parent / "vectors" / "learning").glob("*.npz"))
    arrays = members(src)
    arrays["meta"] = np.array('{"format": "loihi-vec/1", "syn_groups": [5]}')
    np.savez(tmp_path / "v.npz", **arrays)
    with pytest.raises(ImageFileError, match="malformed|group"):
        load_vector(tmp_path / "v.npz")
    shutil.copy(src, tmp_path / "ok.npz")
    assert load_vector(tmp_path / "ok.npz").image.n_compartments > 0


def test_build_image_refuses_unknown_registers_and_float_core_ids():
    regs, syn, _ = random_network(2)
    with pytest.raises(ImageError, match=r"unknown \['decay_w'\]"):
        build_image(dict(regs, decay_w=regs["decay_v"]), np.zeros(40, int), n_in=6, **syn)
    with pytest.raises(ImageError, match=r"missing \['vmax'\]"):
        build_image({k: v for k, v in regs.items() if k != "vmax"}, np.zeros(40, int), n_in=6, **syn)
    with pytest.raises(ImageError, match="integer core numbers"):
        build_image(regs, np.full(40, 0.5), n_in=6, **syn)
    with pytest.raises(ImageError, match="n_in"):
        build_image(regs, np.zeros(40, int), n_in=True, **syn)


@pytest.mark.parametrize("path", [5, None, "a\0b", b"x\0"])
def test_paths_that_are_not_paths(path):
    from compiler.errors import NetworkFileError
    from compiler.network.netfile import load_network
    from loihi_emu.errors import UsageError

    for reader in (load, load_vector):
        with pytest.raises(UsageError):
            reader(path)
    with pytest.raises(NetworkFileError):
        load_network(path)
    with pytest.raises(UsageError):
        save(small_image(), path)

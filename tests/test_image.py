"""Board image tables: validation on construction, per-core limits, save/load and bad files."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from netgen import image_on_cores, random_network

from loihi_emu import LOIHI1, ImageError, ImageFileError, ResourceError, build_image, load, save, validate
from loihi_emu.image.core import (
    CORE_TABLES,
    TABLE_CLASSES,
    CompartmentTable,
    Core,
    Image,
    RouteTable,
    SynapseFormatTable,
    SynapseTable,
    Table,
)
from loihi_emu.image.file import save as save_v1
from loihi_emu.image.limits import core_usage

S = LOIHI1


def _all_subclasses(cls):
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _all_subclasses(sub)
    return out


def _image(seed=0, n_cores=3, max_delay=4):
    regs, syn, _ = random_network(seed, max_delay=max_delay)
    return image_on_cores(regs, syn, 6, np.arange(40) % n_cores)


def test_every_table_class_is_known_to_the_file_format():
    assert _all_subclasses(Table) == set(TABLE_CLASSES)
    assert set(CORE_TABLES.values()) | {RouteTable} == set(TABLE_CLASSES)


def test_save_load_round_trips_every_table(tmp_path):
    image = _image()
    path = tmp_path / "board.npz"
    save(image, path)
    back = load(path)
    assert back.equals(image)
    seen = set()
    for a, b in zip(image.cores, back.cores):
        for name, cls in CORE_TABLES.items():
            ta, tb = getattr(a, name), getattr(b, name)
            assert type(tb) is cls
            seen.add(cls)
            for f, arr in ta.arrays().items():
                assert tb.arrays()[f].dtype == np.dtype(cls.DTYPES[f])
                np.testing.assert_array_equal(arr, tb.arrays()[f])
    seen.add(type(back.inputs))
    assert seen == set(TABLE_CLASSES)
    assert back.inputs.equals(image.inputs)


def test_equals_detects_a_changed_value(tmp_path):
    image = _image()
    c = image.cores[0]
    syn = c.synapses
    wmant = syn.wmant.copy()
    wmant[0] = wmant[0] + 1 if wmant[0] < 254 else wmant[0] - 1
    changed = Core(c.chip, c.index, c.compartments, c.formats,
                   SynapseTable(syn.axon_ptr, syn.target, wmant, syn.fmt, syn.delay), c.routes)
    other = Image((changed,) + image.cores[1:], image.inputs)
    assert not other.equals(image)


@pytest.mark.parametrize(
    "field,value,fragment",
    [
        ("decay_u_reg", 4096, "decay_u_reg[1] = 4096 is outside 0..4095"),
        ("decay_v", -1, "decay_v[1] = -1 is outside 0..4095"),
        ("vth_mant", 0, "vth_mant[1] = 0 is outside 1..131071"),
        ("bias_mant", 4096, "bias_mant[1] = 4096 is outside -4095..4095"),
        ("bias_exp", 8, "bias_exp[1] = 8 is outside 0..7"),
        ("refract", 64, "refract[1] = 64 is outside 1..63 steps"),
        ("vmin", 1, "vmin[1] = 1 is outside -8388608..0"),
        ("vmax", 1 << 23, "vmax[1] = 8388608 is outside 0..8388607"),
    ],
)
def test_compartment_register_out_of_range_names_core_index_value_limit(field, value, fragment):
    regs = dict(decay_u_reg=[1, 2, 3], decay_v=[1, 2, 3], vth_mant=[5, 5, 5], bias_mant=[0, 0, 0],
                bias_exp=[0, 0, 0], refract=[1, 1, 1], vmin=[0, 0, 0], vmax=[9, 9, 9], global_index=[0, 1, 2])
    regs[field] = list(regs[field])
    regs[field][1] = value
    with pytest.raises(ImageError) as err:
        CompartmentTable(**regs, where="chip 0 core 5: ")
    assert "chip 0 core 5: CompartmentTable." + fragment in str(err.value)


def test_synapse_and_format_errors():
    with pytest.raises(ImageError, match=r"SynapseTable.delay\[1\] = 63 is outside 0..62"):
        SynapseTable([0, 2], [0, 0], [1, 1], [0, 0], [0, 63])
    with pytest.raises(ImageError, match=r"wmant\[0\] = 256 does not fit int16|wmant\[0\] = 256 is outside"):
        SynapseTable([0, 1], [0], [256], [0], [0])
    with pytest.raises(ImageError, match=r"axon_ptr must run from 0 to 2"):
        SynapseTable([0, 1], [0, 0], [1, 1], [0, 0], [0, 0])
    with pytest.raises(ImageError, match=r"weight_exp\[0\] = 8 is outside -7..7"):
        SynapseFormatTable([8], [8], [1])
    with pytest.raises(ImageError, match=r"single-sign format keeps at most 8 bits"):
        SynapseFormatTable([9], [0], [2])
    with pytest.raises(ImageError, match=r"expected integers, got dtype float64"):
        SynapseTable([0, 1], [0.5], [1], [0], [0])


def _comp(global_index):
    n = len(global_index)
    one = np.ones(n, int)
    return CompartmentTable(one, one, one, one * 0, one * 0, one, one * 0, one, global_index=global_index)


def test_core_cross_checks():
    comp = _comp([0, 1])
    fmts = SynapseFormatTable([8], [0], [2])  # excitatory
    routes = RouteTable.empty(2)
    syn = SynapseTable([0, 1], [0], [-3], [0], [0])
    with pytest.raises(ImageError, match=r"chip 0 core 7: SynapseTable.wmant\[0\] = -3 is outside 0..255 .*excitatory"):
        Core(0, 7, comp, fmts, syn, routes)
    with pytest.raises(ImageError, match=r"target\[0\] = 2 is outside 0..1"):
        Core(0, 7, comp, fmts, SynapseTable([0, 1], [2], [3], [0], [0]), routes)
    with pytest.raises(ImageError, match=r"fmt\[0\] = 1 is outside 0..0"):
        Core(0, 7, comp, fmts, SynapseTable([0, 1], [0], [3], [1], [0]), routes)
    core = Core(0, 7, comp, fmts, syn.__class__([0, 1], [0], [3], [0], [0]), routes)
    bad_routes = RouteTable([0, 1], [0], [7], [5])
    with pytest.raises(ImageError, match=r"routes to axon 5 of chip 0 core 7, which has 1 input axons"):
        Image((core,), bad_routes)
    with pytest.raises(ImageError, match=r"routes to chip 0 core 8, which is not in the image"):
        Image((core,), RouteTable([0, 1], [0], [8], [0]))
    with pytest.raises(ImageError, match=r"two cores share this address"):
        Image((core, core), RouteTable.empty(0))


def test_global_numbering_must_be_a_permutation():
    comp = _comp([0, 0])
    core = Core(0, 0, comp, SynapseFormatTable([9], [0], [1]), SynapseTable([0], [], [], [], []), RouteTable.empty(2))
    with pytest.raises(ImageError, match="global compartment indices"):
        Image((core,), RouteTable.empty(0))


def _one_core(n=4, **over):
    regs = dict(decay_u_reg=np.arange(n) % 4096, decay_v=0, vth_mant=100, bias_mant=0, bias_exp=0, refract=1,
                vmin=-1, vmax=1000)
    regs.update(over)
    return regs


@pytest.mark.parametrize(
    "resource,make",
    [
        ("compartments", lambda: build_image(_one_core(S.compartments_per_core + 1, decay_u_reg=0), np.zeros(S.compartments_per_core + 1, int),
                                             n_in=0, syn_pre=[], syn_post=[], syn_wmant=[])),
        ("compartment profiles", lambda: build_image(_one_core(40), np.zeros(40, int), n_in=0, syn_pre=[], syn_post=[], syn_wmant=[])),
        ("threshold profiles", lambda: build_image(_one_core(9, decay_u_reg=0, vth_mant=np.arange(1, 10)), np.zeros(9, int), n_in=0,
                                                   syn_pre=[], syn_post=[], syn_wmant=[])),
        ("vminmax profiles", lambda: build_image(_one_core(2, decay_u_reg=0, vmin=np.array([0, -1])), np.zeros(2, int), n_in=0,
                                                 syn_pre=[], syn_post=[], syn_wmant=[])),
        ("synapse formats", lambda: build_image(_one_core(1, decay_u_reg=0), np.zeros(1, int), n_in=17, syn_pre=np.arange(17),
                                                syn_post=np.zeros(17, int), syn_wmant=np.ones(17, int),
                                                syn_wexp=np.arange(17) % 15 - 7, syn_weight_bits=1 + np.arange(17) // 15)),
        ("input axons", lambda: build_image(_one_core(1, decay_u_reg=0), np.zeros(1, int), n_in=S.input_axons_per_core + 1,
                                            syn_pre=np.arange(S.input_axons_per_core + 1), syn_post=np.zeros(S.input_axons_per_core + 1, int),
                                            syn_wmant=np.ones(S.input_axons_per_core + 1, int))),
        ("output axons", lambda: build_image(_one_core(1, decay_u_reg=0), np.arange(1), n_in=0, syn_pre=[], syn_post=[], syn_wmant=[])),
        ("synapse memory bits", lambda: build_image(_one_core(1024, decay_u_reg=0), np.zeros(1024, int), n_in=1024,
                                                    syn_pre=np.repeat(np.arange(1024), 1024), syn_post=np.tile(np.arange(1024), 1024),
                                                    syn_wmant=np.ones(1024 * 1024, int))),
    ],
)
def test_validate_names_the_resource_and_excess(resource, make):
    image = make()
    if resource == "output axons":  # build a core whose routes exceed the limit by hand
        c = image.cores[0]
        k = S.output_axons_per_core + 1
        syn = SynapseTable([0, 0], [], [], [], [])
        routes = RouteTable([0, k], np.zeros(k, int), np.zeros(k, int), np.zeros(k, int))
        image = Image((Core(0, 0, c.compartments, c.formats, syn, routes),), RouteTable.empty(0))
    with pytest.raises(ResourceError) as err:
        validate(image)
    msg = str(err.value)
    assert "chip 0 core 0" in msg and resource in msg and "over by" in msg


def test_profiles_can_be_skipped_for_vectors():
    image = build_image(_one_core(40), np.zeros(40, int), n_in=0, syn_pre=[], syn_post=[], syn_wmant=[])
    validate(image, profiles=False)


def test_synapse_memory_counts_blocks_and_words():
    # one row of 65 synapses, 9-bit mixed weights, no delays, targets < 64 -> 6 index bits
    n = 65
    image = build_image(_one_core(64, decay_u_reg=0), np.zeros(64, int), n_in=1, syn_pre=np.zeros(n, int),
                        syn_post=np.arange(n) % 64, syn_wmant=np.ones(n, int))
    use = core_usage(image.cores[0], S)
    per = 9 + 6
    want = -(-(64 * per + 10) // 64) * 64 + -(-(1 * per + 10) // 64) * 64
    assert use.synapse_memory_bits == want


# ----------------------------------------------------------------------------- bad files
def _saved(tmp_path):
    path = tmp_path / "ok.npz"
    save_v1(_image(), path)  # these edits target the v1 layout; format 3 has its own in test_image_store.py
    return path


def _rewrite(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = edit(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item, data)


def _npy(arr):
    """The bytes of an .npy member; an object array is written as a hostile file would be (header + pickle)."""
    buf = io.BytesIO()
    if arr.dtype.hasobject:
        np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": arr.shape})
        pickle.dump(arr, buf, protocol=3)
    else:
        np.save(buf, arr)
    return buf.getvalue()


class Boom:
    def __reduce__(self):
        return (print, ("code ran",))


@pytest.mark.parametrize(
    "name,edit,fragment",
    [
        ("truncated", None, "not a readable .npz"),
        ("no header", lambda f, d: None if f == "header.npy" else d, "no 'header' member"),
        ("missing member", lambda f, d: None if f == "core0.synapses.wmant.npy" else d, "'core0.synapses.wmant' is missing"),
        ("wrong dtype", lambda f, d: _npy(np.zeros(3, np.float32)) if f == "core0.synapses.wmant.npy" else d, "expected 1-D int16"),
        ("bad json", lambda f, d: _npy(np.array("{not json")) if f == "header.npy" else d, "not valid JSON"),
        ("wrong format", lambda f, d: _npy(np.array(json.dumps({"format": "x"}))) if f == "header.npy" else d, "header format is 'x'"),
        ("pickled object", lambda f, d: _npy(np.array([Boom()], dtype=object)) if f == "core0.synapses.wmant.npy" else d, "unreadable"),
        ("pickled header", lambda f, d: _npy(np.array([Boom()], dtype=object)) if f == "header.npy" else d, "header is unreadable"),
        ("bad values", lambda f, d: _npy(np.full(np.load(io.BytesIO(d)).size, 99, np.uint8)) if f == "core0.synapses.delay.npy" else d,
         "delay[0] = 99 is outside 0..62"),
    ],
)
def test_bad_files_give_typed_errors(tmp_path, capsys, name, edit, fragment):
    src = _saved(tmp_path)
    dst = tmp_path / "bad.npz"
    if edit is None:
        dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    else:
        _rewrite(src, dst, edit)
    with pytest.raises((ImageFileError, ImageError)) as err:
        load(dst)
    assert fragment in str(err.value)
    assert "code ran" not in capsys.readouterr().out


def test_not_a_zip_and_single_array(tmp_path):
    p = tmp_path / "x.npz"
    p.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ImageFileError):
        load(p)
    q = tmp_path / "y.npy"
    np.save(q, np.arange(3))
    with pytest.raises(ImageFileError, match="single array"):
        load(q)

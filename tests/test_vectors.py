"""Every public CUBA conformance vector passes, bit for bit, on both backends."""

from pathlib import Path

import numpy as np
import pytest

from loihi_emu.conformance import check_vector, first_mismatch, load_vector

HERE = Path(__file__).parent / "vectors"
CUBA = sorted((HERE / "cuba").glob("*.npz"))


def test_find_vectors_expands_folders_and_keeps_files():
    # the conformance runner's discovery: a folder gives its cases sorted, a file itself
    from loihi_emu.conformance import find_vectors

    assert find_vectors([HERE]) == sorted(HERE.rglob("*.npz"))
    assert find_vectors([HERE / "cuba"]) == CUBA
    assert find_vectors([CUBA[0]]) == [CUBA[0]]
    assert len({load_vector(p).name for p in CUBA}) == len(CUBA)


@pytest.mark.parametrize("path", CUBA, ids=lambda p: p.stem)
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_cuba_vector(path, backend):
    vec = load_vector(path)
    assert vec.expected is not None
    assert check_vector(vec, backend=backend) is None


@pytest.mark.parametrize("path", CUBA[:3], ids=lambda p: p.stem)
def test_vector_keeps_file_numbering(path):
    vec = load_vector(path)
    with np.load(path, allow_pickle=False) as f:
        for core in vec.image.cores:
            g = core.compartments.global_index
            np.testing.assert_array_equal(core.compartments.vth_mant, f["vth_mant"][g])
            np.testing.assert_array_equal(core.compartments.decay_u_reg, f["decay_u_reg"][g])
            assert (f["core"][g] == core.index).all()
    assert vec.n_in == vec.inputs.shape[1]
    assert vec.steps == vec.inputs.shape[0]


def test_mismatch_is_reported_at_first_step():
    vec = load_vector(CUBA[0])
    got = {k: v.copy() for k, v in vec.expected.items()}
    got["out_v"][7, 3] += 1
    got["out_u"][9, 0] += 1
    m = first_mismatch(vec.expected, got)
    assert (m.array, m.step, m.index, m.got) == ("out_v", 7, 3, int(vec.expected["out_v"][7, 3]) + 1)
    assert "out_v step 7 compartment 3" in str(m)

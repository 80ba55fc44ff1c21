"""Every public learning conformance vector passes, bit for bit, on both backends."""

from pathlib import Path

import numpy as np
import pytest

from loihi_emu import Emulator
from loihi_emu.conformance import check_vector, first_mismatch, load_vector

HERE = Path(__file__).parent / "vectors" / "learning"
LEARNING = sorted(HERE.glob("*.npz"))


def test_learning_vectors_are_learning_cases():
    # each learning vector carries a rule and expected weights, so the check below compares learning
    for path in LEARNING:
        vec = load_vector(path)
        assert vec.expected is not None and "out_w" in vec.expected and "out_x1" in vec.expected, path.name
        assert any(c.learning is not None and c.learning.n > 0 for c in vec.image.cores), path.name


@pytest.mark.parametrize("path", LEARNING, ids=lambda p: p.stem)
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_learning_vector(path, backend):
    vec = load_vector(path)
    assert vec.expected is not None
    # every expected array of the file is compared, the learning ones included
    with np.load(path, allow_pickle=False) as f:
        assert set(vec.expected) == {k for k in f.files if k.startswith("out_")}
    assert check_vector(vec, backend=backend) is None


def test_plastic_order_maps_file_synapses():
    vec = load_vector(LEARNING[2])  # two plastic groups, input and recurrent
    emu = Emulator(vec.image, probes=["wmant"])
    syn = emu.plastic_synapses()
    m = vec.syn["plastic"]
    order = vec.syn["order"][m]
    np.testing.assert_array_equal(syn["target"][order], vec.syn["post"][m])
    np.testing.assert_array_equal(syn["source"][order], vec.syn["pre"][m])
    np.testing.assert_array_equal(emu.learning.w[order], vec.syn["wmant"][m])


def test_a_wrong_weight_is_caught():
    vec = load_vector(LEARNING[0])
    got = {k: v.copy() for k, v in vec.expected.items()}
    got["out_wmant"][30, 5] += 8
    m = first_mismatch(vec.expected, got)
    assert (m.array, m.step, m.index) == ("out_wmant", 30, 5)
    assert "out_wmant step 30 synapse 5" in str(m)


def test_structured_rule_products_are_the_rule_read(tmp_path):
    """The loader reads meta['rule_products'] (unambiguous); a text in another spelling cannot change it."""
    import json

    from loihi_emu.errors import ImageFileError

    src = sorted((Path(__file__).parent / "vectors" / "learning").glob("case000*.npz"))[0]
    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    meta["rule"] = "y0 * x1 * (0) + this is not a rule"
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "respelled.npz", **arrays)
    assert check_vector(load_vector(tmp_path / "respelled.npz")) is None
    meta["rule_products"][0]["factors"] = [["x1"]]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "broken.npz", **arrays)
    with pytest.raises(ImageFileError, match="rule_products"):
        load_vector(tmp_path / "broken.npz")

"""Issue 10, network files: every malformed document is a NetworkFileError naming the key path; docs tables match."""

import copy
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from compiler.errors import NetworkError, NetworkFileError
from compiler.network import schema
from compiler.network.netfile import load_network, network_from_dict, save_network
from loihi_emu.errors import LoihiError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "network-format.md"
BASE = {
    "format": "loihi-net/1",
    "populations": [
        {"name": "in", "size": 4, "input": {"kind": "rate", "intensity": 0.1, "seed": 1}},
        {"name": "a", "size": 3, "tau_u": 2},
    ],
    "projections": [{"pre": "in", "post": "a", "weights": [[0.5] * 3] * 4}],
}


def edited(path: str, value, delete: bool = False) -> dict:
    """BASE with the value at a dotted path (``populations.1.tau_u``) replaced (or deleted)."""
    doc = copy.deepcopy(BASE)
    *head, last = path.split(".")
    obj = doc
    for k in head:
        obj = obj[int(k)] if isinstance(obj, list) else obj[k]
    key = int(last) if isinstance(obj, list) else last
    if delete:
        del obj[key]
    else:
        obj[key] = value
    return doc


def load(doc, base=Path(".")):
    return network_from_dict(doc, base, "net.json")


def test_base_document_loads_and_size_may_sit_in_the_input_object():
    assert load(BASE).n_inputs == 4
    doc = edited("populations.0.size", None, delete=True)
    doc["populations"][0]["input"]["size"] = 4
    assert load(doc).n_inputs == 4
    doc["populations"][0]["size"] = 5
    with pytest.raises(NetworkFileError, match=r"populations\[0\]\.input\.size: = 4 but the population's size is 5"):
        load(doc)


CASES = [  # (path, value, expected fragment): each one was accepted or crashed untyped before issue 10
    ("projection", [], r"net.json: unknown key 'projection'; did you mean 'projections'\?"),
    ("foo", 1, r"unknown key 'foo'"),
    ("graph", {"nodes": []}, r"give either 'graph' or 'populations'/'projections', not both"),
    ("populations.0.tau_u", 3, r"populations\[0\]: input population 'in': 'tau_u' cannot be given"),
    ("populations.1.decay_u_reg", 3, r"populations\[1\]: give one of 'tau_u', 'decay_u', 'decay_u_reg', not both 'tau_u' and 'decay_u_reg'"),
    ("populations.1.tau_u", True, r"populations\[1\]\.tau_u: must be a number.*got true"),
    ("populations.1.vth", True, r"populations\[1\]\.vth: .*got true"),
    ("populations.1.refractory", [True, 1, 1], r"populations\[1\]\.refractory: holds true"),
    ("projections.0.delay", True, r"projections\[0\]\.delay: .*got true"),
    ("projections.0.weight_bits", True, r"projections\[0\]\.weight_bits: must be a number, got true"),
    ("projections.0.weight_bits", "3", r"projections\[0\]\.weight_bits: must be a number, got '3'"),
    ("projections.0.weight_bits", float("nan"), r"weight_bits: must be a whole number, got nan"),
    ("projections.0.weight_bits", 10, r"weight_bits: = 10 must be <= 9"),
    ("projections.0.weight_exp", [1], r"weight_exp: must be a number, got a list"),
    ("projections.0.weight_exp", float("inf"), r"weight_exp: must be a whole number"),
    ("populations.1.v_scale", "x", r"populations\[1\]\.v_scale: must be a number, got 'x'"),
    ("populations.1.v_scale", float("nan"), r"v_scale: must be finite"),
    ("populations.1.vth", float("inf"), r"vth: = inf must be finite"),
    ("populations.1.bias", [1, float("nan"), 2], r"bias\[1\]: = nan is NaN"),
    ("populations.1.size", 10**12, r"populations\[1\]\.size: = 1000000000000 must be <= 2147483647"),
    ("populations.0.size", 10**12, r"populations\[0\]\.size: = 1000000000000 must be <= 2147483647"),
    ("populations.0.input.seed", None, r"input\.seed: must be a number, got null"),
    ("populations.0.input.seed", 1.5, r"input\.seed: must be a whole number"),
    ("populations.0.input.sed", 1, r"unknown key 'sed'; did you mean 'seed'\?"),
    ("populations.0.input.intensity", 2, r"input\.intensity: = 2(\.0)? must be <= 1"),
    ("populations.0.input.kind", "rat", r"'rat' is not one of .*did you mean 'rate'\?"),
    ("populations.0.input", [1], r"populations\[0\]\.input: must be an object"),
    ("populations.0", 5, r"populations\[0\]: must be an object"),
    ("populations", {}, r"populations: must be a list, got an object"),
    ("projections", "x", r"projections: must be a list, got a string"),
    ("arrays", 5, r"arrays: must be a string, got 5"),
    ("name", 5, r"name: must be a string"),
    ("format", "loihi-net/2", r"format: is 'loihi-net/2', expected 'loihi-net/1'"),
    ("projections.0.weights", [[0.5, 1], [1]], r"weights: is ragged"),
    ("projections.0.weights", [[[[[1]]]]], r"nested deeper than 3"),
    ("projections.0.weights", "abc", r"weights: must be a number, a list or '@array'"),
    ("projections.0.sparse", {"pre": [0], "post": [0], "w": [1.0]}, r"give either 'weights' .* not both"),
    ("projections.0.pre", ["in"], r"projections\[0\]\.pre: must be a non-empty string"),
    ("projections.0.post", "nope", r"projections\[0\] \('in' -> 'nope'\): unknown population 'nope'"),
    ("projections.0.traces", {"x1": [1, 2]}, r"traces are given without a learning_rule"),
    ("projections.0.traces", {"x3": [1, 2]}, r"traces\.x3: unknown trace 'x3'"),
    ("projections.0.traces", {"x1": ["1", 2]}, r"traces\.x1: impulse '1' must be a whole number"),
    ("projections.0.traces", [1], r"traces: must be an object"),
    ("projections.0.stochastic_rounding", 1, r"stochastic_rounding: must be true or false, got 1"),
    ("projections.0.sign_mode", "mixd", r"did you mean 'mixed'\?"),
    ("projections.0.learning_rule", 5, r"learning_rule: must be a string"),
]


@pytest.mark.parametrize("path, value, fragment", CASES, ids=[f"{c[0]}={c[1]!r}"[:40] for c in CASES])
def test_malformed_documents_are_typed_errors_naming_the_key_path(path, value, fragment):
    with pytest.raises(NetworkError, match=fragment):
        load(edited(path, value))


def test_missing_keys_are_named():
    with pytest.raises(NetworkFileError, match=r"projections\[0\]: give either 'weights' .* not neither"):
        load(edited("projections.0.weights", None, delete=True))
    with pytest.raises(NetworkFileError, match=r"populations\[1\]: missing key 'name'"):
        load(edited("populations.1.name", None, delete=True))
    with pytest.raises(NetworkFileError, match=r"the document must be a JSON object, got a list"):
        load([])


GRAPH_CASES = [
    ({"nodes": [{"id": 1}, {"id": 1}]}, r"graph\.nodes\[1\]\.id: node 1 is declared twice"),
    ({"nodes": [{"id": 1}], "edges": [{"source": 1, "target": 2, "weight": 1.0}]},
     r"graph\.edges\[0\]\.target: node 2 is not declared"),
    ({"nodes": [{"id": 1}, {"id": 2}], "edges": [{"source": 1, "target": 2, "weight": 1.0}] * 2},
     r"edge 1 -> 2 is given twice"),
    ({"nodes": [{"id": 1, "vth": "x"}]}, r"graph\.nodes\[0\]\.vth: must be a number, got 'x'"),
    ({"nodes": [{"id": 1, "vth": True}]}, r"vth: must be a number, got true"),
    ({"nodes": [{"id": 0, "kind": "input", "spike_times": 5}]}, r"spike_times: has 0 dimension"),
    ({"nodes": [{"id": 0, "kind": "input", "spike_times": [0.5]}]}, r"spike_times(\[0\])?: = 0.5 must be a whole"),
    ({"nodes": [{"id": 0, "kind": "input", "vth": 1.0}]}, r"input node 0 cannot have vth"),
    ({"nodes": [{"id": [1]}]}, r"graph\.nodes\[0\]\.id: must be a string or a whole number"),
    ({"nodes": [{"id": 1}], "edges": [{"source": 1, "target": 1, "weight": True}]}, r"weight: must be a number"),
    ({"nodes": [{"id": 1}], "edges": [{"source": 1, "target": 1, "weight": 1.0, "delay": 63}]}, r"delay: = 63"),
    ({"nodes": "x"}, r"graph\.nodes: must be a list"),
    ({"nodes": [], "multigraph": True}, r"must be a directed graph"),
    ("x", r"graph: must be an object"),
]


@pytest.mark.parametrize("graph, fragment", GRAPH_CASES)
def test_graph_form_errors(graph, fragment):
    with pytest.raises(NetworkFileError, match=fragment):
        load({"format": "loihi-net/1", "graph": graph})


def test_graph_form_loads():
    net = load({"format": "loihi-net/1", "graph": {"nodes": [{"id": "i", "kind": "input", "spike_times": [1, 3]},
                                                              {"id": "n", "vth": 2.0}],
                                                    "edges": [{"source": "i", "target": "n", "weight": 0.5}]}})
    assert net.n_compartments == 1 and net.input_spikes(5)["inputs"][:, 0].tolist() == [0, 1, 0, 1, 0]


def write(tmp_path, doc, name="net.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


@pytest.mark.parametrize("text, fragment", [
    ("[" * 100000 + "]" * 100000, "not valid JSON"),
    ('{"format": "loihi-net/1", "name": ' + "9" * 5000 + "}", "not valid JSON"),
    ("{", "not valid JSON"),
    ("", "not valid JSON"),
    ('{"format": "loihi-net/1", "name": "a", "name": "b"}', "key 'name' is given twice"),
])
def test_hostile_json_text(tmp_path, text, fragment):
    p = tmp_path / "net.json"
    p.write_text(text)
    with pytest.raises(NetworkFileError, match=fragment):
        load_network(p)
    p.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(NetworkFileError, match="not UTF-8"):
        load_network(p)


def test_fifo_network_and_side_files_do_not_hang(tmp_path):
    fifo = tmp_path / "net.json"
    os.mkfifo(fifo)
    with pytest.raises(NetworkFileError, match="FIFO"):
        load_network(fifo)
    os.mkfifo(tmp_path / "side.npz")
    p = write(tmp_path, dict(BASE, arrays="side.npz"), "b.json")
    with pytest.raises(NetworkFileError, match="FIFO"):
        load_network(p)
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(NetworkFileError, match="folder"):
        load_network(tmp_path / "dir.json")


def test_side_file_must_stay_in_the_folder_unless_allowed(tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    doc = edited("projections.0.weights", "@w")
    np.savez(tmp_path / "w.npz", w=np.full((4, 3), 0.5))
    os.symlink(tmp_path / "w.npz", inner / "link.npz")
    for name in ("../w.npz", str(tmp_path / "w.npz"), "link.npz"):
        p = write(inner, dict(doc, arrays=name))
        with pytest.raises(NetworkFileError, match="outside the network file's folder"):
            load_network(p)
        assert load_network(p, allow_outside=True).n_synapses == 12


@pytest.mark.parametrize("damage, fragment", [
    (lambda b: b"", "not a readable .npz"),
    (lambda b: b[: len(b) // 2], "not a readable .npz"),
    (lambda b: b"PK\x03\x04" + b"\x00" * 40, "not a readable .npz"),
    ("deflate", "is corrupt|unreadable|no valid .npy header"),
    ("pickle", "Python objects"),
    ("huge", "needs .* the limit is|truncated"),
])
def test_broken_side_files_are_typed(tmp_path, damage, fragment):
    side = tmp_path / "net.npz"
    if damage == "deflate":
        np.savez_compressed(side, w=np.arange(4000.0).reshape(4, 1000))
        raw = bytearray(side.read_bytes())
        for i in range(80, 400):
            raw[i] ^= 0x5A
        side.write_bytes(bytes(raw))
    elif damage == "pickle":
        np.savez(side, w=np.array([{"a": 1}], dtype=object))
    elif damage == "huge":
        with zipfile.ZipFile(side, "w") as z, z.open("w.npy", "w") as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": (10**11,)})
            fh.write(b"\x00" * 64)
    else:
        np.savez(side, w=np.full((4, 3), 0.5))
        side.write_bytes(damage(side.read_bytes()))
    p = write(tmp_path, dict(edited("projections.0.weights", "@w"), arrays="net.npz"))
    with pytest.raises(NetworkFileError, match=fragment):
        load_network(p)


def test_missing_array_and_wrong_dtype(tmp_path):
    np.savez(tmp_path / "net.npz", ww=np.full((4, 3), 0.5), s=np.array(["a"]))
    p = write(tmp_path, dict(edited("projections.0.weights", "@w"), arrays="net.npz"))
    with pytest.raises(NetworkFileError, match=r"projections\[0\]\.weights: refers to array 'w'.*did you mean 'ww'"):
        load_network(p)
    p = write(tmp_path, dict(edited("projections.0.weights", "@s"), arrays="net.npz"))
    with pytest.raises(NetworkFileError, match="has dtype <U1; expected numbers"):
        load_network(p)


def test_save_network_refuses_its_own_side_file_and_writes_atomically(tmp_path, monkeypatch):
    net = load(edited("projections.0.weights", np.full((4, 3), 0.25).tolist()))
    with pytest.raises(NetworkFileError, match="must not end in .npz"):
        save_network(net, tmp_path / "x.npz")
    save_network(net, tmp_path / "net.json", inline_max=0)
    good = (tmp_path / "net.json").read_bytes(), (tmp_path / "net.npz").read_bytes()

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(LoihiError, match="No space left"):
        save_network(net, tmp_path / "net.json", inline_max=0)
    assert ((tmp_path / "net.json").read_bytes(), (tmp_path / "net.npz").read_bytes()) == good
    assert sorted(os.listdir(tmp_path)) == ["net.json", "net.npz"]


def test_docs_key_tables_are_generated_from_the_schema():
    text = DOCS.read_text()
    assert schema.docs_text(text) == text, "run: python -m compiler.network.schema docs/network-format.md"
    for section in ("top", "population", "projection", "input.rate", "node", "edge"):
        assert schema.key_table(section) in text
    # every key of the population table is one the loader accepts
    listed = set(re.findall(r"^\| `(\w+)` ", text.split("<!-- keys:population -->")[1].split("<!--")[0], re.M))
    assert listed == set(schema.keys("population"))


def test_docs_json_example_loads(tmp_path):
    text = DOCS.read_text()
    doc = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    assert "arrays" not in doc  # the first example is self-contained: it loads as written
    net = load_network(write(tmp_path, doc))
    assert [p.name for p in net.inputs + net.populations] == [p["name"] for p in doc["populations"]]
    assert net.n_synapses > 0

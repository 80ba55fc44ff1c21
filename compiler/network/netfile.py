"""The network JSON format ``loihi-net/1`` (see docs/network-format.md).

A JSON object with ``"format": "loihi-net/1"`` and either

* ``"populations"`` and ``"projections"`` lists (the population form), or
* ``"graph"``: ``{"nodes": [{"id": ..., attrs}], "edges": [{"source", "target", "weight", "delay"}]}``
  (the per-compartment form, see :mod:`compiler.network.convert`).

Any value may be written inline (number, list) or as ``"@key"``, naming an
array in the side file given by ``"arrays"`` (an ``.npz`` path relative to
the JSON file, read with ``allow_pickle=False``). Large arrays (weights,
indices) belong there.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import networkx as nx
import numpy as np

from compiler.errors import NetworkError, NetworkFileError
from compiler.network.convert import from_compartment_graph
from compiler.network.encoders import ENCODERS, DeltaEncoder, LatencyEncoder, RateEncoder
from compiler.network.model import Network

FORMAT = "loihi-net/1"
POP_KEYS = {"name", "size", "input", "tau_u", "tau_v", "decay_u_reg", "decay_v", "vth", "bias", "refractory",
            "vmin", "vmax", "v_scale", "decay_u", "decay_v_reg", "tau_convention"}
POP_KEYS |= {"noise_exp", "noise_offset", "noise_target"}  # docs/noise.md
STRING_POP_KEYS = {"tau_convention", "noise_target"}  # population keys whose value is a string, not a number
PROJ_KEYS = {"pre", "post", "weights", "sparse", "delay", "weight_bits", "sign_mode", "weight_exp", "learning_rule",
             "traces", "learning_epoch", "stochastic_rounding", "w_max"}
PROJ_KEYS |= {"reward"}  # docs/reward.md


class _Arrays:
    def __init__(self, path: Path | None, label: str) -> None:
        self.files, self.label = None, label
        if path is not None:
            try:
                self.files = np.load(path, allow_pickle=False)
            except (OSError, ValueError, zipfile.BadZipFile) as exc:
                raise NetworkFileError(f"{label}: side file {path} is not a readable .npz ({exc})") from None

    def value(self, v, where: str):
        if isinstance(v, str) and v.startswith("@"):
            key = v[1:]
            if self.files is None or key not in self.files.files:
                raise NetworkFileError(f"{self.label}: {where} refers to array {key!r}, which the side file lacks")
            try:
                return self.files[key]
            except ValueError as exc:
                raise NetworkFileError(f"{self.label}: array {key!r} is unreadable ({exc})") from None
        if isinstance(v, list):
            try:
                arr = np.asarray(v)
            except (ValueError, TypeError):
                arr = np.asarray([None])
            if arr.dtype.kind not in "biuf":
                raise NetworkFileError(f"{self.label}: {where} is not a numeric array")
            return arr
        if v in ("inf", "-inf"):
            return float(v)
        if v is None or isinstance(v, (int, float)):
            return v
        raise NetworkFileError(f"{self.label}: {where} = {v!r} is neither a number, a list nor '@array'")


def _encoder(spec: dict, arrays: _Arrays, where: str):
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind == "spikes":
        sp = arrays.value(spec.get("spikes"), f"{where}.spikes")
        return None, None if sp is None else np.asarray(sp)
    if kind not in ENCODERS:
        raise NetworkFileError(f"{where}: input kind {kind!r} is not one of {['spikes', *ENCODERS]}")
    args = {k: arrays.value(v, f"{where}.{k}") for k, v in spec.items()}
    try:
        return ENCODERS[kind](**args), None
    except TypeError as exc:
        raise NetworkFileError(f"{where}: {exc}") from None


def network_from_dict(doc: dict, base: Path | None = None, label: str = "network") -> Network:
    """Build a :class:`Network` from a parsed ``loihi-net/1`` document."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise NetworkFileError(f"{label}: format is {got!r}, expected {FORMAT!r}")
    side = doc.get("arrays")
    arrays = _Arrays(None if side is None else (base or Path(".")) / side, label)
    if "graph" in doc:
        try:
            g = nx.node_link_graph(doc["graph"], directed=True, multigraph=False, edges="edges")
        except (KeyError, TypeError, nx.NetworkXError) as exc:
            raise NetworkFileError(f"{label}: 'graph' is not node-link data ({exc})") from None
        return from_compartment_graph(g, doc.get("name"))
    net = Network(str(doc.get("name", "network")))
    for i, p in enumerate(doc.get("populations", [])):
        where = f"{label}: populations[{i}]"
        if not isinstance(p, dict) or "name" not in p:
            raise NetworkFileError(f"{where} must be an object with a 'name'")
        extra = set(p) - POP_KEYS
        if extra:
            raise NetworkFileError(f"{where} ({p['name']!r}): unknown key(s) {sorted(extra)}")
        if "input" in p:
            enc, spikes = _encoder(p["input"], arrays, f"{where}.input")
            net.add_input(p["name"], p.get("size"), spikes=spikes, encoder=enc)
        else:
            params = {k: v if k in STRING_POP_KEYS else arrays.value(v, f"{where}.{k}")
                      for k, v in p.items() if k not in ("name", "size")}
            net.add_population(p["name"], p.get("size"), **params)
    for i, e in enumerate(doc.get("projections", [])):
        where = f"{label}: projections[{i}]"
        if not isinstance(e, dict) or "pre" not in e or "post" not in e:
            raise NetworkFileError(f"{where} must be an object with 'pre' and 'post'")
        extra = set(e) - PROJ_KEYS
        if extra:
            raise NetworkFileError(f"{where}: unknown key(s) {sorted(extra)}")
        sparse = None
        if "sparse" in e:
            sp = e["sparse"]
            if not isinstance(sp, dict) or set(sp) != {"pre", "post", "w"}:
                raise NetworkFileError(f"{where}.sparse must be an object with 'pre', 'post' and 'w'")
            sparse = tuple(np.asarray(arrays.value(sp[k], f"{where}.sparse.{k}")) for k in ("pre", "post", "w"))
        weights = arrays.value(e["weights"], f"{where}.weights") if "weights" in e else None
        delay = arrays.value(e.get("delay", 0), f"{where}.delay")
        net.connect(e["pre"], e["post"], weights, sparse=sparse, delay=delay if delay is not None else 0,
                    weight_bits=e.get("weight_bits"), sign_mode=e.get("sign_mode"),
                    weight_exp=e.get("weight_exp"), learning_rule=e.get("learning_rule"), traces=e.get("traces"),
                    learning_epoch=e.get("learning_epoch", 1), stochastic_rounding=e.get("stochastic_rounding", False),
                    w_max=e.get("w_max"), reward=e.get("reward"))
    return net


def load_network(path: str | os.PathLike) -> Network:
    """Read a ``loihi-net/1`` JSON file (and its side ``.npz``)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise NetworkFileError(f"{path}: not valid JSON ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFileError(f"{path}: cannot be read ({exc.__class__.__name__}: {exc})") from None
    return network_from_dict(doc, path.parent, str(path))


def _put(arrays: dict, key: str, value, inline_max: int):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isinf(value):
        return str(value)
    if value is None or isinstance(value, (int, float, str)):
        return value
    arr = np.asarray(value)
    if arr.ndim == 0:
        return _put(arrays, key, arr.item(), inline_max)
    if arr.size <= inline_max and arr.dtype.kind in "biuf" and np.isfinite(arr.astype(float)).all():
        return arr.tolist()
    arrays[key] = arr
    return "@" + key


def save_network(net: Network, path: str | os.PathLike, inline_max: int = 16) -> None:
    """Write ``net`` as ``loihi-net/1``: arrays larger than ``inline_max`` (or holding inf) go to ``<stem>.npz``."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    pops = []
    for node in net.graph.nodes:
        p = net.population(node)
        entry: dict = {"name": p.name, "size": p.size}
        if p in net.inputs:
            enc = p.encoder
            if isinstance(enc, RateEncoder):
                entry["input"] = {"kind": "rate", "seed": enc.seed,
                                  "intensity": _put(arrays, f"{p.name}.intensity", enc.intensity, inline_max)}
            elif isinstance(enc, LatencyEncoder):
                entry["input"] = {"kind": "latency", "tau": enc.tau, "theta": enc.theta, "offset": enc.offset,
                                  "intensity": _put(arrays, f"{p.name}.intensity", enc.intensity, inline_max)}
            elif isinstance(enc, DeltaEncoder):
                entry["input"] = {"kind": "delta", "threshold": enc.threshold,
                                  "signal": _put(arrays, f"{p.name}.signal", enc.signal, 0)}
            elif enc is None:
                entry["input"] = {"kind": "spikes", "spikes": None if p.spikes is None else
                                  _put(arrays, f"{p.name}.spikes", p.spikes.astype(np.uint8), 0)}
            else:
                raise NetworkError(f"{p.label}: cannot save encoder {type(enc).__name__}")
        else:
            for k, v in p.params().items():
                if isinstance(v, np.ndarray) and v.size and np.all(v == v.flat[0]):
                    v = v.flat[0].item()
                entry[k] = _put(arrays, f"{p.name}.{k}", v, inline_max)
        pops.append(entry)
    projs = []
    for i, pr in enumerate(net.projections):
        key = f"proj{i}"
        entry = {"pre": pr.pre, "post": pr.post, "sparse": {
            "pre": _put(arrays, f"{key}.pre", pr.pre_index, inline_max),
            "post": _put(arrays, f"{key}.post", pr.post_index, inline_max),
            "w": _put(arrays, f"{key}.w", pr.weight, inline_max)},
            "delay": _put(arrays, f"{key}.delay", pr.delay, inline_max)}
        for k in ("weight_bits", "sign_mode", "weight_exp", "learning_rule"):
            if getattr(pr, k) is not None:
                entry[k] = getattr(pr, k)
        if pr.plastic:
            entry["traces"] = {k: list(v) for k, v in pr.traces.items()}
            entry["learning_epoch"] = pr.learning_epoch
            entry["stochastic_rounding"] = pr.stochastic_rounding
            if pr.w_max is not None:
                entry["w_max"] = pr.w_max
            if pr.reward is not None:
                entry["reward"] = pr.reward
        projs.append(entry)
    doc = {"format": FORMAT, "name": net.name, "populations": pops, "projections": projs}
    if arrays:
        side = path.with_suffix(".npz")
        doc["arrays"] = side.name
        with open(side, "wb") as fh:
            np.savez(fh, **arrays)
    path.write_text(json.dumps(doc, indent=1))

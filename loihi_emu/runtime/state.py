"""Emulator checkpoints: format ``loihi-state/1``, one ``.npz`` without pickles.

Members: ``header`` (0-d unicode JSON: ``format``, ``t``, ``synaptic_events``,
``seed``, ``backend``, ``fingerprint``, the probe keys), ``state.<name>`` for
every array of ``Emulator._state()`` and ``probe.<key>`` for what the probes
recorded so far. ``fingerprint`` is a hash of the run-time network (the image
after flattening, independent of the thread count) and of the probes: a
checkpoint loads only into an emulator of the same image, seed and probes,
and a run continued from it is bit-identical to one that never stopped.
Writing is atomic (temporary file, then rename); reading checks every
member's header first (:mod:`loihi_emu.image.npzread`) and raises
:class:`~loihi_emu.errors.StateFileError`.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from loihi_emu.errors import StateFileError
from loihi_emu.image.npzread import NpzFile
from loihi_emu.safefile import atomic_write

FORMAT = "loihi-state/1"
VARIABLE = ("learning.prev_src",)
"""State arrays whose length changes from step to step."""
_NET_FIELDS = ("keep_u", "keep_v", "vth", "bias", "refract", "vmin", "vmax", "chip", "core", "local")


def fingerprint(emu) -> str:
    """Hash of what a checkpoint must match: compartments, synapses (as a multiset), learning, probes, seed."""
    h = hashlib.blake2b(digest_size=16)
    net = emu.net
    h.update(f"{net.n} {net.n_in} {emu.seed}".encode())
    for name in _NET_FIELDS:
        arr = getattr(net, name, None)
        if isinstance(arr, np.ndarray):
            h.update(name.encode())
            h.update(np.ascontiguousarray(arr).tobytes())
    h.update(np.ascontiguousarray(net.fanout).tobytes())
    # synapses: sorted (weight, target|delay) pairs, so the thread-block layout does not matter
    syn = np.sort(net.tgt_delay.astype(np.uint64) << np.uint64(16) | net.weight.astype(np.uint16))
    h.update(syn.tobytes())
    for key, live in emu._state().items():
        h.update(f"{key}:{np.shape(live) if key not in VARIABLE else ''}".encode())
    for p, idx in emu._probes:
        h.update(f"{p.quantity}/{p.key}/{p.every}/{'all' if idx is None else idx.tolist()}".encode())
    return h.hexdigest()


def save_state(emu, path: str | os.PathLike) -> None:
    """Write the emulator's state and recording to ``path`` (atomically; the name written is ``path``)."""
    state = emu._state()
    header = {"format": FORMAT, "t": int(emu.t), "synaptic_events": int(emu.synaptic_events),
              "seed": int(emu.seed), "backend": emu.backend, "fingerprint": fingerprint(emu),
              "probes": sorted(emu.data)}
    arrays = {"header": np.array(json.dumps(header))}
    arrays.update({f"state.{k}": np.asarray(v) for k, v in state.items() if isinstance(v, np.ndarray)})
    arrays.update({f"probe.{k}": v for k, v in emu.data.export().items()})
    with atomic_write(path, "checkpoint") as fh:
        np.savez(fh, **arrays)


def load_state(emu, path: str | os.PathLike) -> None:
    """Restore a checkpoint of the same image, seed and probes into ``emu``; changes nothing on error."""
    label = os.fspath(path)
    with NpzFile(label, StateFileError, "checkpoint") as f:
        shape, dtype, _ = f.header("header") if "header" in f else ((None,), None, None)
        if shape != () or dtype.kind != "U" or dtype.itemsize > 4 << 20:
            raise StateFileError(f"{label}: not a checkpoint (no JSON 'header' member)")
        try:
            header = json.loads(str(f.read("header")))
        except (ValueError, RecursionError) as exc:
            raise StateFileError(f"{label}: header is not valid JSON ({exc})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            got = header.get("format") if isinstance(header, dict) else None
            raise StateFileError(f"{label}: format is {got!r}, expected {FORMAT!r}")
        if header.get("fingerprint") != fingerprint(emu):
            raise StateFileError(f"{label}: the checkpoint belongs to another image, seed or probe set "
                                 f"(saved with seed {header.get('seed')!r}, backend {header.get('backend')!r}, "
                                 f"probes {header.get('probes')!r})")
        for k in ("t", "synaptic_events"):
            v = header.get(k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise StateFileError(f"{label}: header '{k}' must be a whole number >= 0, got {v!r}")
        saved = {"t": header["t"], "synaptic_events": header["synaptic_events"]}
        for k, live in emu._state().items():
            if not isinstance(live, np.ndarray):
                continue
            arr = f.read(f"state.{k}", dtype=live.dtype, ndim=live.ndim)
            if k not in VARIABLE and arr.shape != live.shape:
                raise StateFileError(f"{label}: member 'state.{k}' has shape {arr.shape}, expected {live.shape}")
            saved[k] = arr
        recorded = {}
        for k in emu.data:
            arr = f.read(f"probe.{k}")
            want = emu.data[k]
            if arr.dtype != want.dtype or arr.shape[1:] != want.shape[1:]:
                raise StateFileError(f"{label}: member 'probe.{k}' has dtype {arr.dtype} and shape {arr.shape}, "
                                     f"expected {want.dtype} [steps, {', '.join(map(str, want.shape[1:]))}]")
            recorded[k] = arr
    emu._restore(saved)
    emu.data.restore(recorded)

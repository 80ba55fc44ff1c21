"""Results of a run by population name, in model units; result files (``run -o out.npz``).

:class:`Results` wraps the probe arrays of a run (an emulator's
:class:`~loihi_emu.runtime.probes.ProbeData`, a float reference's, or a
file's) with the image's :class:`~loihi_emu.image.popmap.PopulationMap`:

* ``results.data["exc", "v"]``: float64 ``[recorded steps, n]`` in model units
  (``v``, ``u``: register / the population's scale; ``w``: the emulator's
  effective weight ``floor(wmant * 2^wexp) * 2^6`` / the target population's
  scale); other quantities as recorded (spikes 0/1, traces in trace units,
  ``wmant`` mantissas, ``delay`` steps);
* ``results.raw["exc", "v"]``: the registers as recorded;
* ``results.spikes("exc")``: int64 ``[k, 2]`` (step, index local to ``exc``).

A key is ``(selector, quantity)``; the selector (``"exc"``, ``"exc[0:10]"``,
``"in->exc"`` for plastic synapses, see :mod:`loihi_emu.image.popmap`) may
name any part of what some probe of that quantity recorded; ``"*"`` names
the probe recorded over everything.

File layout (``loihi-results/1``): an ``.npz`` whose member ``header`` is
JSON ``{"format", "steps", "seed", "image_hash", "populations" (the
population map's JSON), "probes": [{"key", "quantity", "selector", "every",
"units", "n"}]}``; member ``<key>`` holds each probe's raw array (as the
emulator recorded it), ``<key>.index`` its global indices (absent: all),
``spike_events`` the (step, global index) pairs, ``popmap.<name>`` the map's
arrays. Written to a temporary file and renamed; read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from loihi_emu.errors import ImageFileError, ProbeError
from loihi_emu.image.popmap import PopulationMap, parse_selector
from loihi_emu.runtime.probes import axis_of

FORMAT = "loihi-results/1"
CONVERTED = ("v", "u", "w")
UNITS = {"spikes": "spike (0/1)", "v": "model units", "u": "model units", "w": "model units",
         "x1": "trace units", "x2": "trace units", "y1": "trace units", "y2": "trace units", "y3": "trace units",
         "wmant": "weight mantissa", "delay": "steps", "tag": "tag units"}


@dataclass(frozen=True)
class ProbeRecord:
    """One recorded probe: ``key`` (array name), quantity, the selector it was given (None: all), every
    (steps), and its global indices along the quantity's axis (None: all)."""

    key: str
    quantity: str
    selector: str | None
    every: int
    index: np.ndarray | None


class _View(Mapping):
    def __init__(self, results: Results, convert: bool) -> None:
        self._r, self._convert = results, convert

    def __getitem__(self, key):
        return self._r.get(key, convert=self._convert)

    def __iter__(self):
        for p in self._r.probes:
            yield (p.selector or "*", p.quantity)

    def __len__(self) -> int:
        return len(self._r.probes)


class Results:
    """Probe data of a run with its population map; see the module docstring.

    arrays: probe key -> raw array (and ``"spike_events"``); model_units:
    the arrays are already in model units (a float reference), so ``data``
    and ``raw`` are the same.
    """

    def __init__(self, populations: PopulationMap | None, probes: list[ProbeRecord], arrays: Mapping[str, np.ndarray],
                 steps: int, seed: int = 0, image_hash: str | None = None, model_units: bool = False,
                 extras: Mapping[str, np.ndarray] | None = None) -> None:
        self.populations = populations
        self.extras = dict(extras or {})  # other per-run arrays (e.g. the energy estimate), saved as 'extra.<name>'
        self.probes = list(probes)
        self.arrays = arrays
        self.steps = int(steps)
        self.seed = int(seed)
        self.image_hash = image_hash
        self.model_units = model_units

    @property
    def data(self) -> Mapping:
        """(selector, quantity) -> array in model units."""
        return _View(self, True)

    @property
    def raw(self) -> Mapping:
        """(selector, quantity) -> array as recorded (registers for the emulator)."""
        return _View(self, False)

    def _need_map(self) -> PopulationMap:
        if self.populations is None:
            raise ProbeError("these results have no population map (the image was a loihi-image/1 file or built "
                             "by hand): read the arrays by probe key from .arrays")
        return self.populations

    def probe_for(self, key) -> tuple[ProbeRecord, slice | np.ndarray, np.ndarray]:
        """(probe, its columns, their global indices) that answer ``key = (selector, quantity)``."""
        if not (isinstance(key, tuple) and len(key) == 2):
            raise KeyError(f"key {key!r}: expected (selector, quantity), e.g. ('exc', 'v')")
        selector, quantity = key
        cands = [p for p in self.probes if p.quantity == quantity]
        if not cands:
            raise KeyError(f"no {quantity!r} probe was recorded; recorded: {sorted({p.quantity for p in self.probes})}")

        def index_of(p: ProbeRecord) -> np.ndarray:
            return p.index if p.index is not None else np.arange(self.arrays[p.key].shape[1], dtype=np.int64)

        for p in cands:
            if p.selector == (None if selector in (None, "*") else selector):
                return p, slice(None), index_of(p)
        want = self._need_map().select(selector, axis_of(quantity))
        for p in cands:
            pos = {int(g): i for i, g in enumerate(index_of(p))}
            if all(int(g) in pos for g in want):
                return p, np.array([pos[int(g)] for g in want], np.int64), want
        raise KeyError(f"({selector!r}, {quantity!r}): no {quantity!r} probe recorded all of {selector!r}")

    def get(self, key, convert: bool = True) -> np.ndarray:
        """The array of ``key = (selector, quantity)``: the columns of a probe of that quantity that cover it."""
        p, cols, index = self.probe_for(key)
        out = self.arrays[p.key][:, cols]
        if convert and p.quantity in CONVERTED and not self.model_units:
            out = out.astype(np.float64) / self._need_map().scale(p.quantity, index)[None, :]
        return out

    def spike_events(self) -> np.ndarray:
        """int64 [k, 2]: (step, global compartment) of every recorded spike."""
        if "spike_events" not in self.arrays:
            raise KeyError("no spikes probe was recorded")
        return np.asarray(self.arrays["spike_events"])

    def spikes(self, selector: str) -> np.ndarray:
        """int64 [k, 2]: (step, index local to the population) of the spikes of ``selector`` (e.g. ``"exc[0:10]"``)."""
        pm = self._need_map()
        name, _ = parse_selector(selector)
        pop = pm.population(name)
        want = pm.select(selector, "compartment")
        ev = self.spike_events()
        sel = np.isin(ev[:, 1], want)
        out = ev[sel].copy()
        out[:, 1] -= pop.start
        return out

    def units(self, quantity: str) -> str:
        return UNITS.get(quantity, "")

    # ------------------------------------------------------------------ files
    def header(self) -> dict:
        return {
            "format": FORMAT, "steps": self.steps, "seed": self.seed, "image_hash": self.image_hash,
            "model_units": self.model_units,
            "populations": None if self.populations is None else self.populations.to_arrays()[0],
            "probes": [{"key": p.key, "quantity": p.quantity, "selector": p.selector, "every": p.every,
                        "units": UNITS.get(p.quantity, "") if (self.populations or self.model_units)
                        or p.quantity not in CONVERTED else "register units",
                        "n": int(self.arrays[p.key].shape[1])} for p in self.probes],
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the results file (temporary file in the same folder, then rename)."""
        members: dict[str, np.ndarray] = {"header": np.array(json.dumps(self.header()))}
        for p in self.probes:
            members[p.key] = np.asarray(self.arrays[p.key])
            if p.index is not None:
                members[f"{p.key}.index"] = np.asarray(p.index, np.int64)
        if "spike_events" in self.arrays:
            members["spike_events"] = np.asarray(self.arrays["spike_events"])
        members.update({f"extra.{k}": np.asarray(v) for k, v in self.extras.items()})
        if self.populations is not None:
            members.update({f"popmap.{k}": v for k, v in self.populations.to_arrays()[1].items()})
        target = os.fspath(path)
        tmp = f"{target}.tmp{os.getpid()}"
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, **members)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


def results_from(data: Mapping[str, np.ndarray], populations: PopulationMap | None, steps: int, seed: int = 0,
                 image_hash: str | None = None, selectors: Mapping[str, str | None] | None = None,
                 model_units: bool = False) -> Results:
    """Results of a :class:`~loihi_emu.runtime.probes.ProbeData` (an ``Emulator.data``); ``selectors``:
    probe key -> the selector it was given (default: None, all)."""
    records = [ProbeRecord(p.key, p.quantity, (selectors or {}).get(p.key), p.every, idx) for p, idx in data.probes]
    return Results(populations, records, data, steps, seed, image_hash, model_units)


def load_results(path: str | os.PathLike) -> Results:
    """Read a results file written by :meth:`Results.save` (``loihi-emu run -o``)."""
    label = os.fspath(path)
    try:
        files = np.load(label, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ImageFileError(f"{label}: not a readable .npz file ({exc})") from None
    if not hasattr(files, "files"):
        raise ImageFileError(f"{label}: holds a single array, not a results file")
    with files:
        try:
            if "header" not in files.files:
                raise ImageFileError(f"{label}: not a results file (no 'header' member)")
            try:
                head = json.loads(str(files["header"]))
            except json.JSONDecodeError as exc:
                raise ImageFileError(f"{label}: header is not valid JSON ({exc})") from None
            if not isinstance(head, dict) or head.get("format") != FORMAT or not isinstance(head.get("probes"), list):
                raise ImageFileError(f"{label}: header format is not {FORMAT!r}")
            pm = None
            if head.get("populations") is not None:
                parts = {k[len("popmap."):]: files[k] for k in files.files if k.startswith("popmap.")}
                pm = PopulationMap.from_arrays(head["populations"], parts)
            probes, arrays = [], {}
            for i, p in enumerate(head["probes"]):
                if not isinstance(p, dict) or not isinstance(p.get("key"), str) or p["key"] not in files.files:
                    raise ImageFileError(f"{label}: probes[{i}] names no array of the file")
                arrays[p["key"]] = files[p["key"]]
                idx = files[f"{p['key']}.index"] if f"{p['key']}.index" in files.files else None
                probes.append(ProbeRecord(p["key"], str(p.get("quantity")), p.get("selector"), int(p.get("every", 1)),
                                          None if idx is None else idx.astype(np.int64)))
            if "spike_events" in files.files:
                arrays["spike_events"] = files["spike_events"]
            extras = {k[len("extra."):]: files[k] for k in files.files if k.startswith("extra.")}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, TypeError) as exc:
            if isinstance(exc, ImageFileError):
                raise
            raise ImageFileError(f"{label}: malformed results file ({exc})") from None
    return Results(pm, probes, arrays, int(head.get("steps", 0)), int(head.get("seed", 0)), head.get("image_hash"),
                   bool(head.get("model_units", False)), extras)

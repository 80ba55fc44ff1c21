"""A content hash of a board image, the same however and wherever the image is stored."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from loihi_emu.image.core import CORE_TABLES, Core, Image
from loihi_emu.image.store import IMAGE_SECTIONS, ImageStore


def image_digest(image: Image) -> str:
    """``sha256:<hex>`` over the spec name, core addresses, every table array (name, dtype, bytes),
    the input routes, the input program and the population map."""
    return _digest(image.spec.name, [c.address for c in image.cores], image.cores, image.inputs,
                   (image.input_program, image.populations))


def store_digest(store: ImageStore) -> str:
    """:func:`image_digest` of the image in a ``loihi-image/3`` file, reading one chip at a time
    (memory: one chip's tables, not the image's)."""
    def cores() -> Iterable[Core]:
        chip, cached = None, []
        for c, index in store.addresses:
            if c != chip:
                chip, cached = c, {x.index: x for x in store.chip_cores(c)}
            yield cached[index]

    parts = [cls.from_arrays(*store.section(name)) if name in store.header["sections"] else None
             for name, cls in IMAGE_SECTIONS.items()]
    return _digest(store.spec.name, store.addresses, cores(), store.inputs(), tuple(parts))


def _digest(spec_name: str, addresses, cores: Iterable[Core], inputs, parts) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"spec": spec_name, "cores": [list(a) for a in addresses]}).encode())

    def arrays(prefix: str, items) -> None:
        for name, arr in items:
            h.update(f"{prefix}{name}:{arr.dtype.str}:{arr.shape}".encode())
            h.update(arr.tobytes())

    for i, core in enumerate(cores):
        for tname in CORE_TABLES:
            arrays(f"core{i}.{tname}.", getattr(core, tname).arrays().items())
    arrays("inputs.", inputs.arrays().items())
    for prefix, part in zip(("program.", "popmap."), parts):
        if part is not None:
            doc, arrs = part.to_arrays()
            h.update(json.dumps(doc, sort_keys=True).encode())
            arrays(prefix, sorted(arrs.items()))
    return "sha256:" + h.hexdigest()

"""A content hash of a board image, the same however and wherever the image is stored."""

from __future__ import annotations

import hashlib
import json

from loihi_emu.image.core import CORE_TABLES, Image


def image_digest(image: Image) -> str:
    """``sha256:<hex>`` over the spec name, core addresses, every table array (name, dtype, bytes),
    the input routes, the input program and the population map."""
    h = hashlib.sha256()
    h.update(json.dumps({"spec": image.spec.name, "cores": [list(c.address) for c in image.cores]}).encode())

    def arrays(prefix: str, items) -> None:
        for name, arr in items:
            h.update(f"{prefix}{name}:{arr.dtype.str}:{arr.shape}".encode())
            h.update(arr.tobytes())

    for i, core in enumerate(image.cores):
        for tname in CORE_TABLES:
            arrays(f"core{i}.{tname}.", getattr(core, tname).arrays().items())
    arrays("inputs.", image.inputs.arrays().items())
    for prefix, part in (("program.", image.input_program), ("popmap.", image.populations)):
        if part is not None:
            doc, parts = part.to_arrays()
            h.update(json.dumps(doc, sort_keys=True).encode())
            arrays(prefix, sorted(parts.items()))
    return "sha256:" + h.hexdigest()

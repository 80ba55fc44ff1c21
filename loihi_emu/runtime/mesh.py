"""Where a core sits on the tile mesh, and how many hops a spike message takes.

Loihi 1 groups its 128 neuro cores into 32 tiles of 4; the tiles form an
8 x 4 mesh (8 columns east-west, 4 rows north-south) and route spike
messages dimension-ordered (XY: first east-west, then north-south), one hop
per tile boundary crossed.

Core numbering (ours, the same as SANA-FE's Loihi description): core ``c``
of a chip is in tile ``c // 4``; tile ``k`` is at column ``k // 4``, row
``k % 4`` (tile numbers run down a column first).

Several chips: a board is a grid of chips, ``chips_x`` per row (chip ``h``
at chip column ``h % chips_x``, chip row ``h // chips_x``), and the tile
meshes join edge to edge into one big mesh. A message between chips is
routed XY over that big mesh; each crossing of a chip edge counts as one
east-west or north-south hop like any other *and* as one ``chip_hop``, so a
cost profile can charge the inter-chip links extra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MeshLayout:
    """Tile mesh geometry: cores per tile, tiles per chip (columns x rows), chips per board row."""

    cores_per_tile: int = 4
    tiles_x: int = 8
    tiles_y: int = 4
    chips_x: int = 8

    @property
    def tiles_per_chip(self) -> int:
        return self.tiles_x * self.tiles_y

    def tile_id(self, chip, core) -> np.ndarray:
        """Global tile number of core ``core`` of chip ``chip`` (arrays broadcast)."""
        chip, core = np.asarray(chip, np.int64), np.asarray(core, np.int64)
        return chip * self.tiles_per_chip + core // self.cores_per_tile

    def position(self, chip, core) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(X, Y, chip column, chip row): the tile's column and row on the board-wide mesh."""
        chip, core = np.asarray(chip, np.int64), np.asarray(core, np.int64)
        tile = core // self.cores_per_tile
        cx, cy = chip % self.chips_x, chip // self.chips_x
        return cx * self.tiles_x + tile // self.tiles_y, cy * self.tiles_y + tile % self.tiles_y, cx, cy

    def hops(self, src_chip, src_core, dst_chip, dst_core) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(east-west hops, north-south hops, chip-edge crossings) of XY routing, per message."""
        x0, y0, cx0, cy0 = self.position(src_chip, src_core)
        x1, y1, cx1, cy1 = self.position(dst_chip, dst_core)
        return np.abs(x1 - x0), np.abs(y1 - y0), np.abs(cx1 - cx0) + np.abs(cy1 - cy0)


LOIHI1_MESH = MeshLayout()
"""Loihi 1: 4 cores per tile, 8 x 4 tiles per chip, 8 chips per board row (our assumption)."""

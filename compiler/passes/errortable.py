"""The quantization error table: per quantity of each population and projection, the worst error.

Units: model units for thresholds, biases and weights; 1/step for decays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class ErrorRow:
    """Worst quantization error of one quantity of one population or projection.

    max_abs: in the quantity's unit (model units; 1/step for decays);
    max_rel: |quantized - model| / |model| (inf when a zero-free value became 0
    or a zero value did not stay 0). worst: index (compartment or synapse) of
    the largest relative error, with its model and quantized values.
    """

    item: str
    quantity: str
    unit: str
    n: int
    max_abs: float
    max_rel: float
    worst: int
    model: float
    quantized: float


def error_row(item: str, quantity: str, unit: str, model: np.ndarray, quant: np.ndarray) -> ErrorRow:
    model, quant = np.asarray(model, np.float64), np.asarray(quant, np.float64)
    if model.size == 0:
        return ErrorRow(item, quantity, unit, 0, 0.0, 0.0, -1, 0.0, 0.0)
    ab = np.abs(quant - model)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(model != 0, ab / np.abs(model), np.where(ab == 0, 0.0, np.inf))
    rel = np.where(np.isnan(rel), 0.0, rel)  # inf - inf (tau = inf kept as inf)
    ab = np.where(np.isnan(ab), 0.0, ab)
    i = int(np.argmax(rel)) if rel.max() > 0 else int(np.argmax(ab))
    return ErrorRow(item, quantity, unit, int(model.size), float(ab.max()), float(rel.max()), i,
                    float(model[i]), float(quant[i]))


def merge_error_rows(rows: list[ErrorRow], chunk: int) -> ErrorRow:
    """The :func:`error_row` of a quantity from the rows of its consecutive chunks of ``chunk`` entries.

    Same result as one call over the whole arrays: the worst entry is the first
    with the largest relative error (or, when every relative error is 0, the
    first with the largest absolute one).
    """
    if len(rows) == 1:
        return rows[0]
    r0 = rows[0]
    max_rel = max(r.max_rel for r in rows)
    max_abs = max(r.max_abs for r in rows)
    k = next(i for i, r in enumerate(rows) if (r.max_rel == max_rel if max_rel > 0 else r.max_abs == max_abs))
    w = rows[k]
    return ErrorRow(r0.item, r0.quantity, r0.unit, sum(r.n for r in rows), max_abs, max_rel, k * chunk + w.worst,
                    w.model, w.quantized)


@dataclass
class QuantizationTable:
    """Every :class:`ErrorRow` of a compiled network."""

    rows: list[ErrorRow]

    def worst(self, k: int = 5) -> list[ErrorRow]:
        """The k rows with the largest relative error."""
        return sorted(self.rows, key=lambda r: (-r.max_rel, -r.max_abs))[:k]

    def to_dicts(self) -> list[dict]:
        return [asdict(r) for r in self.rows]

    def to_text(self, k: int | None = None) -> str:
        rows = self.rows if k is None else self.worst(k)
        head = f"{'item':<28} {'quantity':<9} {'n':>9} {'max abs':>11} {'max rel':>9}  worst (index: model -> quantized)"
        lines = [head, "-" * len(head)]
        for r in rows:
            lines.append(
                f"{r.item[:28]:<28} {r.quantity:<9} {r.n:>9} {r.max_abs:>11.4g} {r.max_rel:>9.3g}  "
                f"[{r.worst}]: {r.model:.6g} -> {r.quantized:.6g} {r.unit}"
            )
        return "\n".join(lines)



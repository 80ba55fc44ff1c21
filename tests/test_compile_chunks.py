"""The compiler's memory chunking (quantize, partition, lower) never changes a result: compiling with
tiny chunks gives the same image, quantization table and route statistics as with the default ones."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import compiler as C
from compiler.passes import partition, quantize


def bench_like(n: int = 2500, k: int = 8, seed: int = 1) -> C.Network:
    """A small bench-A-like network: recurrent, fixed fan-in, Dale's law, a few weights rounding badly."""
    rng = np.random.default_rng(seed)
    n_exc = int(n * 0.8)
    net = C.Network("bench-like")
    for name, size in (("exc", n_exc), ("inh", n - n_exc)):
        net.add_population(name, size, tau_u=10, tau_v=20, vth=200.0, bias=rng.uniform(4, 11, size), refractory=2)
    post = np.repeat(np.arange(n), k)
    pre = rng.integers(0, n, n * k)
    w = rng.integers(0, 40, n * k) / 64.0
    for pname, lo, hi, sign in (("exc", 0, n_exc, 1.0), ("inh", n_exc, n, -5.0)):
        for qname, plo, phi in (("exc", 0, n_exc), ("inh", n_exc, n)):
            sel = (pre >= lo) & (pre < hi) & (post >= plo) & (post < phi)
            net.connect(pname, qname, sparse=(pre[sel] - lo, post[sel] - plo, sign * w[sel]))
    return net


def _compile(net):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return C.compile(net)


@pytest.mark.parametrize("chunk", [13, 97])
def test_tiny_chunks_compile_the_same_image(monkeypatch, chunk):
    net = bench_like()
    image, report = _compile(net)
    monkeypatch.setattr(quantize, "CHUNK", chunk)
    monkeypatch.setattr(partition, "CHUNK", chunk)
    from compiler.passes import lower

    monkeypatch.setattr(lower, "CHUNK", chunk)
    image2, report2 = _compile(net)
    assert image2.equals(image) and len(image.cores) > 1
    assert report2.quantization.to_dicts() == report.quantization.to_dicts()
    assert report2.routes == report.routes


def test_merged_error_rows_name_the_same_worst_synapse():
    rng = np.random.default_rng(3)
    model = rng.normal(size=50)
    model[[4, 30]] = 0.0
    quant = np.round(model * 4) / 4
    quant[30] = 0.5  # an inf relative error in a later chunk
    whole = quantize.error_row("p", "weight", "model", model, quant)
    for chunk in (1, 6, 49, 50):
        rows = [quantize.error_row("p", "weight", "model", model[i : i + chunk], quant[i : i + chunk])
                for i in range(0, 50, chunk)]
        assert quantize.merge_error_rows(rows, chunk) == whole
    exact = quantize.error_row("p", "weight", "model", model, model)  # no error anywhere
    assert quantize.merge_error_rows([quantize.error_row("p", "weight", "model", model[i : i + 7], model[i : i + 7])
                                      for i in range(0, 50, 7)], 7) == exact

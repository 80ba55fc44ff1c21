"""Quantization formulas against hand computations, the error table and the warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import compiler as C
from compiler.passes.quantize import (
    decay_u_register,
    decay_v_register,
    max_mantissa,
    quantize_bias,
    quantize_network,
    weight_exponent,
)
from loihi_emu import LOIHI1
from loihi_emu.image.core import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED


def test_decay_registers_by_hand():
    # decay_v = rint(4096 / tau); decay_u_reg = rint(4096 / tau) - 1 (the emulator adds 1 back)
    assert decay_v_register(np.array([1.0, 2.0, 20.0, 3.0, np.inf])).tolist() == [4095, 2048, 205, 1365, 0]
    assert decay_u_register(np.array([1.0, 2.0, 20.0, 3.0, np.inf])).tolist() == [4095, 2047, 204, 1364, 0]
    assert decay_u_register(np.array([5000.0]), LOIHI1).tolist() == [0]


def test_bias_mantissa_and_exponent_by_hand():
    mant, exp = quantize_bias(np.array([0.0, 100.4, -4095.0, 4096.0, 10000.0, 4095 * 128.0]))
    assert exp.tolist() == [0, 0, 0, 1, 2, 7]
    assert mant.tolist() == [0, 100, -4095, 2048, 2500, 4095]
    with pytest.raises(C.QuantizationError):
        quantize_bias(np.array([4096 * 128.0]))


def test_weight_exponent_and_mantissa_range():
    assert max_mantissa(9, SIGN_MIXED) == 255 and max_mantissa(8, SIGN_EXCITATORY) == 255
    assert max_mantissa(5, SIGN_INHIBITORY) == 248  # P = 2^(8-5) = 8 -> 8 * floor(255 / 8) = 8 * 31
    assert weight_exponent(255.0, 255) == 0 and weight_exponent(255.5, 255) == 1
    assert weight_exponent(255 * 128.0, 255) == 7 and weight_exponent(255 * 129.0, 255) is None


def one_projection_net(w, vth=1.0, bias=0.0, **proj):
    net = C.Network()
    net.add_input("in", len(w))
    net.add_population("p", 1, tau_u=4, tau_v=8, vth=vth, bias=bias)
    net.connect("in", "p", sparse=(np.arange(len(w)), np.zeros(len(w), int), np.asarray(w, float)), **proj)
    return net


def test_scale_fills_mantissa_and_threshold_bias_share_it():
    q = quantize_network(one_projection_net([0.5, 0.25, 0.1], vth=1.0, bias=0.1))
    pop, pw = q.populations[0], q.projections[0]
    s = 255 * 64 / 0.5  # strongest weight -> mantissa 255 at exponent 0
    assert pop.v_scale == pytest.approx(s)
    assert pw.weight_exp == 0 and pw.sign_mode == SIGN_EXCITATORY and pw.weight_bits == 8
    assert pw.wmant.tolist() == [255, 128, 51]  # rint(0.25 s / 64) = rint(127.5) = 128 (ties to even)
    assert pop.vth_mant.tolist() == [510]  # rint(s * 1 / 64)
    assert (pop.bias_mant.tolist(), pop.bias_exp.tolist()) == ([3264], [0])  # rint(0.1 s)
    assert pop.decay_u_reg.tolist() == [1023] and pop.decay_v.tolist() == [512]


def test_mixed_sign_and_forced_exponent():
    q = quantize_network(one_projection_net([1.0, -1.0, 0.5], weight_exp=2))
    pw, pop = q.projections[0], q.populations[0]
    assert pw.sign_mode == SIGN_MIXED and pw.weight_bits == 9 and pw.weight_exp == 2
    s = pop.v_scale
    assert s == pytest.approx(255 * 64 / 1.0)
    assert pw.wmant.tolist() == [64, -64, 32]  # rint(255 / 4) = 64 at exponent 2


def test_scale_limited_by_threshold_range_warns():
    # vth 2^12 times the weight: the weight-filling scale would put vth_mant beyond 2^17 - 1
    net = one_projection_net([1.0], vth=4096.0)
    with pytest.warns(C.QuantizationWarning, match="limits the scale"):
        q = quantize_network(net)
    s = q.populations[0].v_scale
    assert s == pytest.approx((2**17 - 1) * 64 / 4096.0)
    assert q.populations[0].vth_mant.tolist() == [2**17 - 1]


def test_unrepresentable_threshold_is_an_error_naming_the_fix():
    with pytest.raises(C.QuantizationError, match="'p'.*raise vth"):
        quantize_network(one_projection_net([1.0], vth=1e-3))


def test_v_scale_out_of_range_is_an_error():
    net = C.Network()
    net.add_population("p", 1, vth=1.0, v_scale=1e9)
    with pytest.raises(C.QuantizationError, match="v_scale"):
        quantize_network(net)


def test_weights_rounding_to_zero_warn_and_table_names_worst():
    w = [1.0] + [1e-4] * 10
    with pytest.warns(C.QuantizationWarning, match="round to 0"):
        q = quantize_network(one_projection_net(w))
    row = next(r for r in q.table.rows if r.quantity == "weight")
    assert row.item == "projection 'in' -> 'p'" and row.n == 11
    assert row.max_rel == pytest.approx(1.0) and row.worst == 1
    assert row.model == 1e-4 and row.quantized == 0.0
    assert q.table.worst(1)[0].quantity == "weight"


def test_error_table_against_hand_values():
    net = C.Network()
    net.add_population("p", 2, tau_u=3.0, tau_v=np.array([7.0, np.inf]), vth=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q = quantize_network(net)
    rows = {r.quantity: r for r in q.table.rows}
    du = rows["decay_u"]  # (rint(4096/3) - 1 + 1) / 4096 = 1365/4096 vs 1/3
    assert du.max_abs == pytest.approx(abs(1365 / 4096 - 1 / 3))
    assert du.max_rel == pytest.approx(abs(1365 / 4096 - 1 / 3) * 3)
    dv = rows["decay_v"]  # rint(4096/7) = 585
    assert dv.worst == 0 and dv.max_abs == pytest.approx(abs(585 / 4096 - 1 / 7))
    assert rows["vth"].max_abs == pytest.approx(0.0, abs=1e-12)


def test_tau_u_infinite_warns_unavoidable_loss():
    net = C.Network()
    net.add_population("p", 1, tau_u=np.inf, vth=1.0)
    with pytest.warns(C.QuantizationWarning, match="decay_u"):
        q = quantize_network(net)
    assert q.populations[0].decay_u_reg.tolist() == [0]


def test_vmin_vmax_scaled_and_defaults():
    q = quantize_network(_vnet())
    pop = q.populations[0]
    s = pop.v_scale
    assert pop.vmin.tolist() == [round(-2.0 * s)] and pop.vmax.tolist() == [LOIHI1.v_max_limit]


def _vnet():
    net = C.Network()
    net.add_input("in", 1)
    net.add_population("p", 1, vth=1.0, vmin=-2.0)
    net.connect("in", "p", weights=np.ones((1, 1)))
    return net

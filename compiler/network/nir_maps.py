"""The linear NIR nodes as sparse maps, and their composition into synapses.

A map node (Affine, Linear, Scale, Conv1d, Conv2d, AvgPool2d, SumPool2d,
Flatten, Delay, Identity) takes a flat input vector (C order of its input
shape) to a flat output vector. It is held as COO triplets ``(rows = input
index, cols = output index, vals)`` plus an output bias; Delay nodes keep the
identity and add a delay in steps per input index. :class:`Terms` are the
synapses from one source population through a chain of maps: ``(pre index,
post index, weight, delay in steps)``. Only numpy is used (no scipy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.errors import NIRError

IDENTITY_TYPES = ("Flatten", "Identity", "Input", "Output")


@dataclass
class Terms:
    """Synapses from one source: pre, post (int64 [m]), weight (float64 [m]), delay (int64 [m], steps)."""

    pre: np.ndarray
    post: np.ndarray
    w: np.ndarray
    d: np.ndarray

    @staticmethod
    def identity(n: int) -> Terms:
        i = np.arange(n, dtype=np.int64)
        return Terms(i, i.copy(), np.ones(n), np.zeros(n, np.int64))

    @staticmethod
    def cat(parts: list[Terms]) -> Terms:
        return Terms(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("pre", "post", "w", "d")))

    def merged(self) -> Terms:
        """Duplicates (same pre, post, delay) summed; zero weights dropped; sorted by (pre, post, delay)."""
        if self.w.size == 0:
            return self
        n_post, n_d = int(self.post.max()) + 1, int(self.d.max()) + 1
        key = (self.pre * n_post + self.post) * n_d + self.d
        uniq, inv = np.unique(key, return_inverse=True)
        w = np.bincount(inv.ravel(), weights=self.w, minlength=uniq.size)
        keep = w != 0
        uniq = uniq[keep]
        return Terms(uniq // (n_post * n_d), (uniq // n_d) % n_post, w[keep], uniq % n_d)

    def distinct(self) -> bool:
        """True when no two synapses share a pre index or a post index (composing keeps pairs distinct)."""
        if self.w.size == 0:
            return True
        return int(np.bincount(self.pre).max()) <= 1 and int(np.bincount(self.post).max()) <= 1


@dataclass
class Map:
    """One map node: COO [n_in, n_out] (rows, cols, vals), output bias [n_out] or None, delays [n_in] or None."""

    rows: np.ndarray | None
    cols: np.ndarray | None
    vals: np.ndarray | None
    n_in: int
    n_out: int
    out_shape: tuple[int, ...]
    bias: np.ndarray | None = None
    delay: np.ndarray | None = None

    @property
    def identity(self) -> bool:
        return self.rows is None

    def apply(self, t: Terms) -> Terms:
        """The synapses of ``t`` continued through this map."""
        if self.delay is not None:
            t = Terms(t.pre, t.post, t.w, t.d + self.delay[t.post])
        if self.identity:
            return t
        order = np.argsort(self.rows, kind="stable")
        r, c, v = self.rows[order], self.cols[order], self.vals[order]
        indptr = np.searchsorted(r, np.arange(self.n_in + 1))
        starts = indptr[t.post]
        counts = indptr[t.post + 1] - starts
        rep = np.repeat(np.arange(t.post.size), counts)
        idx = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(int(counts.sum()))
        out = Terms(t.pre[rep], c[idx], t.w[rep] * v[idx], t.d[rep])
        if t.distinct():  # (pre, col) pairs are the map's own (row, col) pairs: distinct already
            keep = out.w != 0
            return Terms(out.pre[keep], out.post[keep], out.w[keep], out.d[keep])
        return out.merged()

    def apply_bias(self, b: np.ndarray) -> np.ndarray:
        """The output bias of this map for an input that carries the constant ``b`` [n_in]."""
        if self.identity:
            out = b.copy()
        else:
            out = np.bincount(self.cols, weights=self.vals * b[self.rows], minlength=self.n_out)
        return out + (self.bias if self.bias is not None else 0.0)


def _tuple(x, nd: int, what: str, name: str) -> tuple[int, ...]:
    a = np.atleast_1d(np.asarray(x)).astype(np.int64).ravel()
    if a.size == 1:
        a = np.repeat(a, nd)
    if a.size != nd:
        raise NIRError(f"node {name!r}: {what} {x!r} does not have {nd} entries", name)
    return tuple(int(v) for v in a)


def conv_map(name: str, in_shape: tuple[int, ...], weight: np.ndarray, stride, padding, dilation, groups: int,
             bias: np.ndarray | None) -> Map:
    """A 1-D or 2-D convolution (PyTorch's definition, zero padding) over ``in_shape`` = (C, *spatial)."""
    weight = np.asarray(weight, np.float64)
    nd = weight.ndim - 2
    if len(in_shape) != nd + 1:
        raise NIRError(f"node {name!r}: input shape {list(in_shape)} does not chain: a {nd}-D convolution takes "
                       f"[C, {', '.join('HW'[:nd] if nd == 2 else 'N')}]", name)
    c_in, sp = in_shape[0], in_shape[1:]
    c_out, c_g, k = weight.shape[0], weight.shape[1], weight.shape[2:]
    groups = int(np.asarray(groups))
    if groups < 1 or c_out % groups or c_g * groups != c_in:
        raise NIRError(f"node {name!r}: weight {list(weight.shape)} with groups={groups} does not take "
                       f"{c_in} input channels (input shape {list(in_shape)})", name)
    s = _tuple(stride, nd, "stride", name)
    dil = _tuple(dilation, nd, "dilation", name)
    pad = padding.decode() if isinstance(padding, bytes) else padding
    if isinstance(pad, np.ndarray) and pad.dtype.kind in "SU":
        pad = str(pad)
    if isinstance(pad, str):
        if pad == "valid":
            left = (0,) * nd
            out = tuple((sp[i] - dil[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nd))
        elif pad == "same":
            left = tuple(dil[i] * (k[i] - 1) // 2 for i in range(nd))
            out = tuple(sp)
        else:
            raise NIRError(f"node {name!r}: padding {pad!r} is not 'same', 'valid' or a number", name)
    else:
        left = _tuple(pad, nd, "padding", name)
        out = tuple((sp[i] + 2 * left[i] - dil[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nd))
    if min(out) < 1:
        raise NIRError(f"node {name!r}: input shape {list(in_shape)} is smaller than the kernel {list(k)}", name)
    n_pos, n_sp = int(np.prod(out)), int(np.prod(sp))
    grid = np.indices(out).reshape(nd, -1)
    oc = np.arange(c_out)
    g = oc // (c_out // groups)
    rows, cols, vals = [], [], []
    for kidx in np.ndindex(*k):
        pos = [grid[i] * s[i] - left[i] + kidx[i] * dil[i] for i in range(nd)]
        ok = np.ones(n_pos, bool)
        for i in range(nd):
            ok &= (pos[i] >= 0) & (pos[i] < sp[i])
        if not ok.any():
            continue
        flat_in = np.ravel_multi_index(tuple(p[ok] for p in pos), sp)
        flat_out = np.flatnonzero(ok)
        for cl in range(c_g):
            w = weight[(oc, cl, *kidx)]
            nz = w != 0
            if not nz.any():
                continue
            ci = g[nz] * c_g + cl
            rows.append((ci[:, None] * n_sp + flat_in[None, :]).ravel())
            cols.append((oc[nz][:, None] * n_pos + flat_out[None, :]).ravel())
            vals.append(np.repeat(w[nz], flat_in.size))
    z = np.zeros(0, np.int64)
    b = None
    if bias is not None:
        bias = np.asarray(bias, np.float64).ravel()
        if bias.size not in (1, c_out):
            raise NIRError(f"node {name!r}: bias has {bias.size} values for {c_out} output channels", name)
        b = np.repeat(np.broadcast_to(bias, (c_out,)), n_pos)
    return Map(np.concatenate(rows) if rows else z, np.concatenate(cols) if cols else z,
               np.concatenate(vals) if vals else np.zeros(0), c_in * n_sp, c_out * n_pos, (c_out, *out), b)


def pool_map(name: str, in_shape: tuple[int, ...], kernel, stride, padding, average: bool) -> Map:
    """AvgPool2d (count_include_pad, PyTorch's default) or SumPool2d over [C, H, W] as a depthwise convolution."""
    if len(in_shape) == 2:
        in_shape = (1, *in_shape)
    if len(in_shape) != 3:
        raise NIRError(f"node {name!r}: input shape {list(in_shape)} does not chain: 2-D pooling takes [C, H, W]",
                       name)
    k = _tuple(kernel, 2, "kernel_size", name)
    st = np.atleast_1d(np.asarray(stride)) if stride is not None else np.asarray(k)
    s = _tuple(st if st.size else k, 2, "stride", name)
    c = in_shape[0]
    w = np.full((c, 1, *k), 1.0 / (k[0] * k[1]) if average else 1.0)
    return conv_map(name, in_shape, w, s, padding if padding is not None else 0, 1, c, None)


def flatten_shape(name: str, in_shape: tuple[int, ...], start: int, end: int) -> tuple[int, ...]:
    nd = len(in_shape)
    if nd == 0:
        return in_shape
    s, e = int(start), int(end)
    s, e = (s + nd if s < 0 else s), (e + nd if e < 0 else e)
    s, e = min(max(s, 0), nd - 1), min(max(e, 0), nd - 1)
    if e < s:
        raise NIRError(f"node {name!r}: Flatten start_dim {start} is after end_dim {end} for shape {list(in_shape)}",
                       name)
    return (*in_shape[:s], int(np.prod(in_shape[s : e + 1])), *in_shape[e + 1 :])


def delay_steps(name: str, delay: np.ndarray, dt: float, n: int) -> np.ndarray:
    """A Delay node's delays (seconds) as whole steps of ``dt``, per input index [n]."""
    d = np.broadcast_to(np.asarray(delay, np.float64).ravel() if np.size(delay) > 1 else np.asarray(delay, float), (n,))
    steps = d / dt
    r = np.rint(steps)
    bad = (np.abs(steps - r) > 1e-6 * np.maximum(1.0, np.abs(steps))) | (r < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise NIRError(f"node {name!r}: delay[{i}] = {d[i]} s is not a whole number of steps of dt = {dt} s "
                       f"({steps[i]:.6g} steps)", name)
    return r.astype(np.int64)


def node_map(name: str, t: str, node, in_shape: tuple[int, ...], dt: float) -> Map:
    """The :class:`Map` of map node ``name`` (type ``t``) for an input of shape ``in_shape``."""
    n_in = int(np.prod(in_shape)) if in_shape else 1
    if t in IDENTITY_TYPES:
        out = flatten_shape(name, in_shape, node.start_dim, node.end_dim) if t == "Flatten" else in_shape
        return Map(None, None, None, n_in, n_in, out)
    if t == "Delay":
        return Map(None, None, None, n_in, n_in, in_shape, delay=delay_steps(name, node.delay, dt, n_in))
    if t in ("Affine", "Linear"):
        w = np.asarray(node.weight, np.float64)
        if w.ndim != 2:
            raise NIRError(f"node {name!r}: {t} weight of shape {list(w.shape)} is not a 2-D [out, in] matrix", name)
        if w.shape[1] != n_in:
            raise NIRError(f"node {name!r}: shapes do not chain: {t} weight {list(w.shape)} takes {w.shape[1]} "
                           f"values, its input gives {n_in} (shape {list(in_shape)})", name)
        j, i = np.nonzero(w)
        bias = np.asarray(node.bias, np.float64).ravel() if t == "Affine" else None
        if bias is not None:
            if bias.size == 1:
                bias = np.full(w.shape[0], float(bias[0]))
            if bias.size != w.shape[0]:
                raise NIRError(f"node {name!r}: bias has {bias.size} values for {w.shape[0]} outputs", name)
            if not bias.any():
                bias = None
        return Map(i.astype(np.int64), j.astype(np.int64), w[j, i], n_in, w.shape[0], (w.shape[0],), bias)
    if t == "Scale":
        sc = np.asarray(node.scale, np.float64).ravel()
        if sc.size == 1:
            sc = np.full(n_in, sc[0])
        if sc.size != n_in:
            raise NIRError(f"node {name!r}: shapes do not chain: Scale has {sc.size} factors, its input gives "
                           f"{n_in} values", name)
        i = np.arange(n_in, dtype=np.int64)
        return Map(i, i.copy(), sc, n_in, n_in, in_shape)
    if t in ("Conv1d", "Conv2d"):
        w = np.asarray(node.weight)
        nd = w.ndim - 2
        shape = in_shape
        if len(shape) == nd:  # a single channel written without its axis
            shape = (1, *shape)
        given = getattr(node, "input_shape", None)
        if given is not None and np.size(given):
            g = tuple(int(v) for v in np.atleast_1d(np.asarray(given)))
            if tuple(shape[1:]) != g:
                raise NIRError(f"node {name!r}: shapes do not chain: input_shape {list(g)} but its input gives "
                               f"{list(shape)}", name)
        return conv_map(name, shape, w, node.stride, node.padding, node.dilation, node.groups, node.bias)
    if t in ("AvgPool2d", "SumPool2d"):
        return pool_map(name, in_shape, node.kernel_size, node.stride, node.padding, t == "AvgPool2d")
    raise NIRError(f"node {name!r}: {t} is not a map node", name)  # pragma: no cover - guarded by the caller

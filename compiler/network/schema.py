"""The schema of the network file ``loihi-net/1``: every key, its type, unit, range and meaning, once.

:mod:`compiler.network.netfile` checks documents against it (:func:`check`,
typed :class:`~compiler.errors.NetworkFileError` naming the key path such as
``projections[3].weight_bits``, unknown keys with a did-you-mean), and
docs/network-format.md's key tables are generated from it
(:func:`key_table`, :func:`update_docs`; a test keeps them in sync). Adding a
population key is one line in :data:`POPULATION`.

Types: ``name`` (non-empty string), ``size`` (whole number 1..MAX_SIZE),
``values`` (a number, a list or an ``"@key"`` array; per compartment or per
synapse), ``int``, ``real``, ``bool``, ``enum``, ``text``, ``object`` (a nested
section), ``list`` (of a section's objects), ``traces``, ``id`` (a graph node
id: string or whole number).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loihi_emu.hw import LOIHI1 as S

FORMAT = "loihi-net/1"
MAX_SIZE = 2**31 - 1
"""Largest population size (compartment indices are int32)."""
MAX_SEED = 2**64 - 1


@dataclass(frozen=True)
class Key:
    """One key of a section. lo/hi: inclusive bounds (``lo_open``: lo excluded); inf: ``inf`` allowed."""

    name: str
    type: str
    doc: str
    unit: str = ""
    default: str = "-"
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    inf: bool = False
    integer: bool = False
    ndim: tuple[int, ...] = (0, 1)
    choices: tuple = ()
    section: str = ""
    required: bool = False
    boolean: bool = False

    def rule(self) -> str:
        """The range as docs print it."""
        if self.type == "enum":
            return " / ".join(f"`{c}`" for c in self.choices)
        if self.lo is None and self.hi is None:
            return {"values": "finite", "real": "finite"}.get(self.type, "")
        lo = "" if self.lo is None else f"{'> ' if self.lo_open else ''}{_num(self.lo)}"
        if self.hi is None:
            text = f">= {lo}" if not self.lo_open else lo
        elif self.lo is None:
            text = f"<= {_num(self.hi)}"
        else:
            text = f"{lo}..{_num(self.hi)}" if not self.lo_open else f"in ({_num(self.lo)}, {_num(self.hi)}]"
        return text + (" or `inf`" if self.inf else "") + (", whole" if self.integer and self.type == "values" else "")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _values(name, doc, unit="", default="-", **kw) -> Key:
    return Key(name, "values", doc, unit, default, **kw)


TOP = (
    Key("format", "enum", "the format name", choices=(FORMAT,), required=True),
    Key("name", "text", "the network's name", default="`network`"),
    Key("arrays", "text", "side `.npz` file holding the `@key` arrays, relative to the JSON file's folder"),
    Key("populations", "list", "the populations, in numbering order", section="population", default="[]"),
    Key("projections", "list", "the projections", section="projection", default="[]"),
    Key("graph", "object", "per-compartment form instead of populations/projections", section="graph"),
)

POPULATION = (
    Key("name", "name", "unique population name", required=True),
    Key("size", "size", "compartments (or input channels)", default="from the arrays", lo=1, hi=MAX_SIZE),
    Key("input", "object", "makes it an input population (no other keys below)", section="input"),
    _values("tau_u", "current time constant", "steps", "1", lo=1, inf=True),
    _values("tau_v", "voltage time constant", "steps", "`inf`", lo=1, inf=True),
    _values("decay_u_reg", "current decay register, instead of `tau_u`", "1/4096 per step", lo=0, hi=S.decay_max,
            integer=True),
    _values("decay_v_reg", "voltage decay register, instead of `tau_v`", "1/4096 per step", lo=0, hi=S.decay_max,
            integer=True),
    _values("decay_u", "fraction of u lost per step, instead of `tau_u`", "per step", lo=0, hi=1),
    _values("decay_v", "fraction of v lost per step, instead of `tau_v`", "per step", lo=0, hi=1),
    Key("tau_convention", "enum", "how a tau becomes a decay: `euler` 1/tau, `exp` 1 - exp(-1/tau)",
        default="`euler`", choices=("euler", "exp")),
    _values("vth", "threshold; spike when v > vth", "model unit", "1", lo=0, lo_open=True),
    _values("bias", "constant input per step", "model unit per step", "0"),
    _values("refractory", "refractory register (r - 1 silent steps)", "steps", "1", lo=S.refract_min,
            hi=S.refract_max, integer=True),
    _values("vmin", "lower voltage bound", "model unit", "hardware range", hi=0),
    _values("vmax", "upper voltage bound", "model unit", "hardware range", lo=0),
    Key("v_scale", "real", "fixes the quantizer's scale", "v units per model unit", "chosen", lo=0, lo_open=True),
    Key("noise_exp", "int", "noise exponent (docs/noise.md); absent: no noise", default="none", lo=S.noise_exp_min,
        hi=S.noise_exp_max),
    Key("noise_offset", "int", "noise mantissa offset", default="0", lo=S.noise_offset_range[0],
        hi=S.noise_offset_range[1]),
    Key("noise_target", "enum", "where noise enters: `u` (the current's input) or `v`", default="`u`",
        choices=("u", "v")),
    Key("compartments", "object", "dendritic tree shared by every neuron: compartment name -> {`parent`, `join` "
        "(`add`, `block`, `pass`, `or`, `and`), CUBA keys above} (docs/dendrites.md)", default="one compartment",
        section="compartments"),
)
OPTIONAL_POPULATION_KEYS = ()
"""Keys the schema accepts that are passed to Population only when this version's Population has them."""

INPUT = (
    Key("kind", "enum", "the encoder", choices=("rate", "poisson", "latency", "delta", "spikes"), required=True),
    Key("size", "size", "channels (same as the population's `size`)", lo=1, hi=MAX_SIZE),
)
INPUT_KINDS = {
    "rate": (
        _values("intensity", "spike probability per step", "probability", lo=0, hi=1, required=True),
        Key("seed", "int", "seed of the random stream", default="0", lo=0, hi=MAX_SEED),
    ),
    "poisson": (
        _values("rate_hz", "Poisson rate of each channel", "Hz", lo=0, required=True),
        Key("dt", "real", "seconds per step", "s", "0.001", lo=0, lo_open=True),
        Key("seed", "int", "seed of the random stream", default="0", lo=0, hi=MAX_SEED),
    ),
    "latency": (
        _values("intensity", "input strength I", "I units", required=True),
        Key("tau", "real", "RC time constant", "steps", "10", lo=0, lo_open=True),
        Key("theta", "real", "threshold", "I units", "0.5", lo=0),
        Key("offset", "int", "first possible spike step", "steps", "0", lo=0, hi=MAX_SIZE),
    ),
    "delta": (
        _values("signal", "signal [steps, n] (2n channels: on, then off)", required=True, ndim=(1, 2)),
        Key("threshold", "real", "change that makes a spike", "signal units", "0.1", lo=0),
    ),
    "spikes": (
        _values("spikes", "spikes [steps, size], 0/1 or true/false; `null` = silent", lo=0, hi=1, integer=True,
                ndim=(2,), boolean=True),
    ),
}

PROJECTION = (
    Key("pre", "name", "source population", required=True),
    Key("post", "name", "target population (not an input)", required=True),
    _values("weights", "dense [pre.size, post.size]; 0 = no synapse", "model unit", ndim=(2,)),
    Key("sparse", "object", "one entry per synapse, instead of `weights`", section="sparse"),
    _values("delay", "synaptic delay (scalar, [m] or [pre.size, post.size])", "steps", "0", lo=0, hi=S.max_delay,
            integer=True, ndim=(0, 1, 2)),
    Key("weight_bits", "int", "mantissa bits of the synapse format", "bits", "chosen", lo=1, hi=S.max_weight_bits),
    Key("sign_mode", "enum", "sign of the synapse format", default="chosen",
        choices=("mixed", "excitatory", "inhibitory")),
    Key("weight_exp", "int", "weight exponent", default="chosen", lo=0, hi=S.weight_exp_max),
    Key("learning_rule", "text", "learning rule (docs/learning-language.md); makes it plastic", default="static"),
    Key("traces", "traces", "trace name -> [impulse, tau]", default="none"),
    Key("learning_epoch", "int", "the rule runs once per epoch", "steps", "1", lo=1, hi=S.max_learning_epoch),
    Key("stochastic_rounding", "bool", "stochastic rounding of learning", default="`false`"),
    Key("w_max", "real", "largest \\|weight\\| learning may reach", "model unit", "largest initial", lo=0,
        lo_open=True),
    Key("reward", "name", "one-axon input population whose spikes are the rule's reward (docs/reward.md)",
        default="none"),
    Key("compartment", "name", "compartment of `post`'s dendritic tree the synapses drive (docs/dendrites.md)",
        default="the root"),
)
SPARSE = (
    _values("pre", "source index of each synapse", lo=0, hi=MAX_SIZE - 1, integer=True, ndim=(1,), required=True),
    _values("post", "target index of each synapse", lo=0, hi=MAX_SIZE - 1, integer=True, ndim=(1,), required=True),
    _values("w", "weight of each synapse", "model unit", ndim=(1,), required=True),
)
TRACES = {"x1": "per source", "x2": "per source", "y1": "per target", "y2": "per target", "y3": "per target",
          "r1": "per reward channel"}
TRACE_IMPULSE = (0, S.trace_impulse_max)
TRACE_TAU = (1, S.trace_tau_max)

GRAPH = (
    Key("nodes", "list", "one object per compartment or input axon", section="node", required=True),
    Key("edges", "list", "one object per synapse", section="edge", default="[]"),
    Key("links", "list", "another name of `edges` (networkx < 3.4 writes it)", section="edge"),
    Key("directed", "bool", "must be `true` if given", default="`true`"),
    Key("multigraph", "bool", "must be `false` if given", default="`false`"),
    Key("graph", "object", "graph attributes", section="graph_attrs", default="{}"),
)
GRAPH_ATTRS = (Key("name", "text", "the network's name"),)
NODE = (
    Key("id", "id", "unique node id (string or whole number)", required=True),
    Key("kind", "enum", "what the node is", default="`compartment`", choices=("compartment", "input")),
    _values("spike_times", "input nodes: steps with a spike", "steps", "[]", lo=0, hi=MAX_SIZE, integer=True,
            ndim=(1,)),
) + tuple(Key(k.name, "real", k.doc, k.unit, k.default, k.lo, k.hi, k.lo_open, k.inf, k.integer)
          for k in POPULATION if k.name in ("tau_u", "tau_v", "decay_u_reg", "decay_v_reg", "vth", "bias",
                                            "refractory", "vmin", "vmax"))
EDGE = (
    Key("source", "id", "source node id", required=True),
    Key("target", "id", "target node id (a compartment)", required=True),
    Key("weight", "real", "synaptic weight", "model unit", required=True),
    Key("delay", "int", "synaptic delay", "steps", "0", lo=0, hi=S.max_delay),
)

SECTIONS = {"top": TOP, "population": POPULATION, "input": INPUT, "projection": PROJECTION, "sparse": SPARSE,
            "graph": GRAPH, "graph_attrs": GRAPH_ATTRS, "node": NODE, "edge": EDGE,
            **{f"input.{k}": v for k, v in INPUT_KINDS.items()}}
INPUT_POPULATION_KEYS = ("name", "size", "input")
NODE_PARAMS = tuple(k.name for k in NODE[3:])


def keys(section: str) -> dict[str, Key]:
    """Key name -> :class:`Key` of a section (see :data:`SECTIONS`)."""
    return {k.name: k for k in SECTIONS[section]}


def key_table(section: str) -> str:
    """The markdown table of a section's keys, as docs/network-format.md shows it."""
    rows = ["| key | type | unit | default | range | meaning |", "|---|---|---|---|---|---|"]
    for k in SECTIONS[section]:
        typ = k.type if k.type != "list" else f"list of {k.section}"
        default = "required" if k.required else k.default
        rows.append(f"| `{k.name}` | {typ} | {k.unit} | {default} | {k.rule()} | {k.doc} |")
    return "\n".join(rows)


def _marker(section: str) -> tuple[str, str]:
    return f"<!-- keys:{section} -->", f"<!-- /keys:{section} -->"


def docs_text(text: str) -> str:
    """``text`` with every ``<!-- keys:S -->`` ... ``<!-- /keys:S -->`` block regenerated from the schema."""
    for section in SECTIONS:
        start, end = _marker(section)
        i = text.find(start)
        if i < 0:
            continue
        j = text.index(end, i)
        text = text[: i + len(start)] + "\n" + key_table(section) + "\n" + text[j:]
    return text


def update_docs(path: str | Path) -> bool:
    """Rewrite the key tables of a markdown file; True when something changed."""
    p = Path(path)
    old = p.read_text()
    new = docs_text(old)
    if new != old:
        p.write_text(new)
    return new != old


if __name__ == "__main__":  # python -m compiler.network.schema docs/network-format.md
    import sys

    for arg in sys.argv[1:]:
        print(f"{arg}: {'updated' if update_docs(arg) else 'up to date'}")

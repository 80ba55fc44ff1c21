"""compare-sanafe: our sanafe_loihi energy/latency estimate against SANA-FE 2.2.9 itself.

    python benchmarks/compare_sanafe.py [--sanafe-python PATH] [--steps 100]

Builds a few small static networks whose integer CUBA matches SANA-FE's
float Loihi LIF exactly (u without memory: decay_u_reg = 4095; any v decay,
since SANA-FE truncates v to 1/64 after its leak; integer weights; no
refractory period; no clipping), runs them in our Emulator and in SANA-FE
(its loihi.yaml, the "simple" timing model), and prints per network: do the
spikes agree, do the event counts agree (synaptic events, hops, fired,
updated, messages), and the relative difference of energy and chip time
(per step, worst step, and total). Exit status 1 when a count differs or
a step's energy or time is off by more than 2 %.

SANA-FE is GPL-3.0 and is not a dependency: it runs in its own interpreter
(``--sanafe-python`` or $SANAFE_PYTHON, default: this one), which this script
calls with ``--worker`` on a JSON description of the network. When no
interpreter can import ``sanafe`` the script says so and exits 0 (skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

INPUT_CORE = 3  # SANA-FE maps the input neurons to this core of tile 0; the images leave it empty


# ---------------------------------------------------------------- SANA-FE side (runs in its own interpreter)
def worker(spec_path: str, out_path: str) -> None:
    import sanafe  # noqa: PLC0415  (only in the worker)

    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    arch = sanafe.load_loihi()
    net = sanafe.Network()
    inp = net.create_neuron_group("in", max(spec["n_in"], 1), {}, log_spikes=True)
    pop = net.create_neuron_group("pop", spec["n"], {"reset": 0.0, "reset_mode": "hard", "input_decay": 0.0},
                                  log_spikes=True)
    for i, neuron in enumerate(inp.neurons):
        train = spec["inputs"][i] if i < spec["n_in"] else [False] * spec["steps"]
        neuron.set_attributes(soma_hw_name=f"loihi_inputs[{i}]", model_attributes={"spikes": train})
    for g, (vth, bias, leak) in enumerate(spec["neurons"]):
        pop.neurons[g].set_attributes(model_attributes={"threshold": vth, "bias": bias, "leak_decay": leak})
    for pre, post, w in spec["edges"]:
        src = inp.neurons[pre] if pre < spec["n_in"] else pop.neurons[pre - spec["n_in"]]
        src.connect_to_neuron(pop.neurons[post], {"weight": float(w)})
    cores = arch.cores()
    for neuron in inp.neurons:
        neuron.map_to_core(cores[INPUT_CORE])
    for g, c in enumerate(spec["core_of"]):
        pop.neurons[g].map_to_core(cores[c])
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    res = chip.sim(spec["steps"], timing_model="simple", spike_trace=True, perf_trace=True)
    spikes = [[[str(a).split(".")[0], int(str(a).split(".")[1])] for a in step] for step in res["spike_trace"]]
    perf = {k: list(v) for k, v in res["perf_trace"].items()}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"spikes": spikes, "perf": perf, "packets_sent": res["packets_sent"],
                   "energy": res["energy"]["total"], "sim_time": res["sim_time"]}, f)


# ---------------------------------------------------------------- our side
def networks(steps: int):
    import numpy as np

    rng = np.random.default_rng(7)
    big = (1 << 23) - 1

    def net(name, n_in, core_of, pre, post, w, vth, bias, decay_v, rate):
        regs = dict(decay_u_reg=4095, decay_v=decay_v, vth_mant=vth, bias_mant=bias, bias_exp=0, refract=1,
                    vmin=-big, vmax=big)
        inputs = (rng.random((steps, n_in)) < rate).astype(np.uint8)
        return name, n_in, np.asarray(core_of), regs, np.asarray(pre), np.asarray(post), np.asarray(w), inputs

    # 1. a chain across tiles, driven by two inputs
    core_of = [0, 0, 1, 1, 5, 100]
    yield net("chain", 2, core_of, [0, 0, 1, 2, 3, 4, 5, 7], [0, 1, 2, 3, 4, 5, 0, 2], [3, 3, 3, 3, 3, 3, 3, -2],
              2, 0, 0, 0.2)
    # 2. random sparse recurrent network on 8 cores over 6 tiles, mixed weights, leak and bias
    n, n_in = 160, 16
    cores = np.array([0, 1, 5, 13, 42, 77, 100, 127])
    core_of = cores[np.arange(n) * cores.size // n]
    m = 1200
    pre, post = rng.integers(0, n_in + n, m), rng.integers(0, n, m)
    pre, post = np.unique(np.stack([pre, post], 1), axis=0).T
    w = rng.integers(-6, 11, pre.size)
    yield net("random", n_in, core_of, pre, post, w, rng.integers(5, 16, n), rng.integers(-40, 60, n) * (rng.random(n) < 0.3),
              rng.integers(0, 4096, n), 0.15)
    # 3. a feed-forward layer: 32 inputs -> 96 neurons on 2 cores -> 24 neurons on 1 core, power-of-two leaks
    n1, n2 = 96, 24
    core_of = [0] * 48 + [2] * 48 + [9] * n2
    pre1, post1 = np.meshgrid(np.arange(32), np.arange(n1), indexing="ij")
    pre2, post2 = np.meshgrid(32 + np.arange(n1), n1 + np.arange(n2), indexing="ij")
    pre, post = np.concatenate([pre1.ravel(), pre2.ravel()]), np.concatenate([post1.ravel(), post2.ravel()])
    keep = rng.random(pre.size) < 0.5
    yield net("layers", 32, core_of, pre[keep], post[keep], rng.integers(-2, 6, int(keep.sum())),
              12, 0, np.where(np.arange(n1 + n2) < n1, 2048, 1024), 0.2)
    # 4. bias-driven oscillators on 30 tiles (the largest barrier bucket), no inputs
    n = 120
    core_of = np.arange(n) // 4 * 4  # cores 0, 4, 8, ...: one core in each of 30 tiles
    pre = np.arange(n - 1) + 1
    post = np.arange(1, n)
    yield net("bias", 1, core_of, pre, post, np.full(n - 1, 5), 20, rng.integers(0, 300, n), 0, 0.0)


def ours(item, steps: int):
    import numpy as np

    from loihi_emu import Emulator, build_image
    from loihi_emu.energy import energy_probes, estimate_energy

    name, n_in, core_of, regs, pre, post, w, inputs = item
    image = build_image(regs, core_of, n_in=n_in, syn_pre=pre, syn_post=post, syn_wmant=w)
    emu = Emulator(image, probes=energy_probes())
    emu.run(steps, inputs)
    rep = estimate_energy(image, emu.data, "sanafe_loihi", inputs=inputs, input_core=(0, INPUT_CORE))
    per = {k: np.broadcast_to(np.asarray(regs[k]), core_of.shape) for k in ("vth_mant", "bias_mant", "decay_v")}
    vth = [int(x) for x in per["vth_mant"]]
    bias = [float(x) / 64 for x in per["bias_mant"]]  # SANA-FE's unit is our 2^6
    leak = [(4096 - int(x)) / 4096 for x in per["decay_v"]]
    spec = {"n_in": n_in, "n": int(core_of.size), "steps": steps, "core_of": [int(c) for c in core_of],
            "neurons": list(zip(vth, bias, leak)), "edges": [[int(a), int(b), int(c)] for a, b, c in zip(pre, post, w)],
            "inputs": [[bool(x) for x in inputs[:, i]] for i in range(n_in)]}
    return emu.data["spikes"], inputs, rep, spec


def compare(name, spikes, inputs, rep, theirs) -> list[str]:
    import numpy as np

    steps, n = spikes.shape
    sf = np.zeros((steps, n), np.uint8)
    sf_in = np.zeros(steps, np.int64)
    for t, step in enumerate(theirs["spikes"]):
        for group, k in step:
            if group == "pop":
                sf[t, k] = 1
            else:
                sf_in[t] += 1
    perf = {k: np.asarray(v, float) for k, v in theirs["perf"].items()}
    c = rep.counts
    cores = slice(0, len(c.labels) - 1)
    checks = {
        "spikes": (spikes.astype(np.int64), sf.astype(np.int64)),
        "synaptic events": (c.synaptic_events.sum(1), perf["spikes"]),
        "hops": ((c.ew_hops + c.ns_hops).sum(1), perf["hops"]),
        "fired": (c.spikes[:, cores].sum(1) + inputs.sum(1), perf["fired"]),
        "updated": (c.active[:, cores].sum(1) + inputs.sum(1), perf["updated"]),
        "messages": (np.array([c.messages.sum()]), np.array([theirs["packets_sent"]])),
    }
    lines = []
    for what, (a, b) in checks.items():
        same = a.shape == b.shape and np.array_equal(a, b)
        lines.append(f"  {what:16s} {'equal' if same else 'DIFFER'} (ours {int(np.sum(a))}, SANA-FE {int(np.sum(b))})")
    e_ours, t_ours = rep.per_step["energy"], rep.per_step["time"]
    for what, a, b in (("energy", e_ours, perf["total_energy"]), ("time", t_ours, perf["sim_time"])):
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-30)
        tot = abs(a.sum() - b.sum()) / b.sum()
        lines.append(f"  {what:16s} total ours {a.sum():.6e} SANA-FE {b.sum():.6e}: rel. diff {tot:.2e}, "
                     f"worst step {rel.max():.2e}")
    return lines


def find_sanafe(python: str) -> bool:
    code = "import sanafe"
    return subprocess.run([python, "-c", code], capture_output=True).returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sanafe-python", default=os.environ.get("SANAFE_PYTHON", sys.executable))
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    if not find_sanafe(args.sanafe_python):
        print(f"skipped: sanafe is not importable by {args.sanafe_python} (pass --sanafe-python or set SANAFE_PYTHON)")
        return 0
    worst, differ = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for item in networks(args.steps):
            spikes, inputs, rep, spec = ours(item, args.steps)
            spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
            with open(spec_path, "w", encoding="utf-8") as f:
                json.dump(spec, f)
            subprocess.run([args.sanafe_python, os.path.abspath(__file__), "--worker", spec_path, out_path],
                           check=True, capture_output=True)
            with open(out_path, encoding="utf-8") as f:
                theirs = json.load(f)
            print(f"{item[0]}: {spec['n']} neurons, {len(spec['edges'])} synapses, {spec['n_in']} inputs, "
                  f"{len(set(spec['core_of']))} cores, {rep.counts.tiles_in_use} tiles, {args.steps} steps")
            lines = compare(item[0], spikes, inputs, rep, theirs)
            print("\n".join(lines))
            worst = max([worst] + [float(x.split("worst step ")[1]) for x in lines if "worst step" in x])
            differ += sum("DIFFER" in x for x in lines)
    print(f"worst relative difference of any step's energy or time: {worst:.2e}; counts that differ: {differ}")
    return 1 if differ or worst > 0.02 else 0


if __name__ == "__main__":
    sys.exit(main())

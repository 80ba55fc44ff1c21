"""Compiler: network graph -> quantized, partitioned, placed board image.

Public API::

    net = Network("demo")
    net.add_input("in", encoder=RateEncoder(0.05, size=100, seed=1))
    net.add_population("exc", 400, tau_u=5, tau_v=20, vth=1.0, refractory=2)
    net.connect("in", "exc", weights=w)            # dense [pre, post] or sparse=(pre, post, w)
    sim = Simulator(net, probes=[("exc", "spikes"), ("exc", "v", 10)], seed=0)
    sim.run(1000)                                  # plays the network's own inputs
    sim.data["exc", "v"], sim.spikes("exc")        # model units; (step, local index)

or, one level down: ``image, report = compile(net)``, ``Emulator(image).run(1000)``.
"""

from compiler.errors import (
    CapacityError,
    CompilerError,
    DuplicateError,
    EncoderError,
    LearningError,
    LearningRuleError,
    NetworkError,
    NetworkFileError,
    NIRError,
    NIRWarning,
    ParameterError,
    PlacementError,
    QuantizationError,
    QuantizationWarning,
    ShapeError,
    UnknownPopulationError,
)
from compiler.network.encoders import DeltaEncoder, LatencyEncoder, PoissonEncoder, RateEncoder, stable_id, uniform
from compiler.network.input_population import InputPopulation
from compiler.network.model import Network
from compiler.network.nir import from_nir
from compiler.network.nir_result import NIRImport, NIRReport
from compiler.network.population import Population, Projection
from compiler.nir_export import to_nir
from compiler.passes.placement import PLACEMENTS, PlacementProblem, register_placement
from compiler.passes.quantize import QuantizationTable, quantize_network
from compiler.pipeline import as_network, compile
from compiler.precision.compare import PrecisionError, PrecisionReport, compare
from compiler.precision.reference import FloatLearning, FloatReferenceError, FloatSimulator
from compiler.precision.sweep import SweepReport, sweep
from compiler.report import CompileReport
from compiler.simulator import Simulator

__all__ = [
    "PLACEMENTS", "CapacityError", "CompileReport", "CompilerError", "DeltaEncoder", "DuplicateError",
    "EncoderError", "InputPopulation", "LatencyEncoder", "LearningError", "LearningRuleError", "Network", "NetworkError", "NetworkFileError",
    "ParameterError", "PlacementError", "PlacementProblem", "PoissonEncoder", "Population", "Projection", "QuantizationError",
    "QuantizationTable", "QuantizationWarning", "RateEncoder", "ShapeError", "UnknownPopulationError",
    "as_network", "compile", "quantize_network", "register_placement", "stable_id", "uniform",
    "FloatLearning", "FloatReferenceError", "FloatSimulator", "PrecisionError", "PrecisionReport", "SweepReport",
    "compare", "sweep", "Simulator", "NIRError", "NIRImport", "NIRReport", "NIRWarning", "from_nir", "to_nir",
]

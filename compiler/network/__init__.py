"""The network model a user writes: populations, projections, encoders, files."""

from compiler.network.convert import from_compartment_graph
from compiler.network.default_net import default_network
from compiler.network.encoders import DeltaEncoder, LatencyEncoder, RateEncoder, stable_id, uniform
from compiler.network.input_population import InputPopulation
from compiler.network.model import Network
from compiler.network.netfile import load_network, save_network
from compiler.network.population import Population, Projection

__all__ = [
    "DeltaEncoder", "InputPopulation", "LatencyEncoder", "Network", "Population", "Projection", "RateEncoder",
    "default_network", "from_compartment_graph", "load_network", "save_network", "stable_id", "uniform",
]

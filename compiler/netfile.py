"""Deprecated alias of :mod:`compiler.network.netfile` (kept for one release).

Import ``load_network`` and ``save_network`` from ``compiler`` or
``compiler.network`` instead.
"""

import warnings

from compiler.network.netfile import load_network, network_from_dict, save_network

warnings.warn(
    "compiler.netfile is deprecated; import from compiler.network", DeprecationWarning, stacklevel=2
)

__all__ = ["load_network", "network_from_dict", "save_network"]

"""gasgrid: steady and transient simulation and security-of-supply analysis of gas transmission networks."""

from gasgrid.errors import (
    ConvergenceError,
    GasgridError,
    InfeasibleError,
    InputError,
    TopologyError,
)
from gasgrid.gas import EOS, Gas
from gasgrid.io.native import load_network as load
from gasgrid.model.network import Network
from gasgrid.units import Reference

__version__ = "0.1.0"

__all__ = [
    "EOS",
    "ConvergenceError",
    "Gas",
    "GasgridError",
    "InfeasibleError",
    "InputError",
    "Network",
    "Reference",
    "TopologyError",
    "__version__",
    "load",
]

"""The learning engine: traces, the decoded rule tables and the per-step engine.

:mod:`.flat` turns an image's learning profiles into the tables the kernels
run (the rule is decoded once, here); :mod:`.traces` and :mod:`.rule` hold
the numba kernels with their numpy twins; :mod:`.engine` runs them per step;
:mod:`.random` holds the jitted counter-based draws.
"""

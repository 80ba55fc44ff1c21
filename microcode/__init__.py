"""Learning-rule language and its 4-bit microcode."""

"""Compiler: network graph -> quantized, partitioned, placed board image."""

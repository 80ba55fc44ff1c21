"""The compiler passes, in pipeline order: quantize, partition, placement, lower."""

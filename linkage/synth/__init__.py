"""A deterministic synthetic population with its truth, written in every source's format."""

from linkage.synth.generate import SynthConfig, generate

__all__ = ["SynthConfig", "generate"]

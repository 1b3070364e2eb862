"""A deterministic synthetic population with its truth, written in every source's format."""

from linkage.synth.generate import Profile, SynthConfig, generate

__all__ = ["Profile", "SynthConfig", "generate"]

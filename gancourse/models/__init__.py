"""Generators and discriminators, one family per module."""
from .mlp import MLPDiscriminator, MLPGenerator
from .toy import ToyDiscriminator, ToyGenerator

__all__ = ["MLPGenerator", "MLPDiscriminator", "ToyGenerator", "ToyDiscriminator"]

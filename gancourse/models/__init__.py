"""Generators and discriminators, one family per module."""
from .cgan import ConditionalDiscriminator, ConditionalGenerator
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator
from .progan import ProGANDiscriminator, ProGANGenerator
from .toy import ToyDiscriminator, ToyGenerator
from .wgan import WGANCritic

__all__ = [
    "MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator",
    "ConditionalGenerator", "ConditionalDiscriminator", "ToyGenerator", "ToyDiscriminator",
    "WGANCritic", "ProGANGenerator", "ProGANDiscriminator",
]

"""MDEQ-lite models: the multiscale equilibrium cell, a generative decoder and a classifier."""
from engine.models.mdeq.cell import MultiscaleCell
from engine.models.mdeq.classifier import MDEQClassifier
from engine.models.mdeq.decoder import MDEQDecoder

__all__ = ["MDEQClassifier", "MDEQDecoder", "MultiscaleCell"]

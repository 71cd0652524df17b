"""BabySea image and video generations as ordinary Django site media."""

__version__ = "0.1.0"

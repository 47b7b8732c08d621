"""unionfeed: a monitoring feed of Vietnamese trade-union news."""

__version__ = "0.1.0"

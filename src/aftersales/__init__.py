"""aftersales: the after-sales service system for machinery makers."""

__version__ = "0.1.0"

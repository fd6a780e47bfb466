"""atmpchain: chain of identity, custody and GMP records for advanced therapy medicinal products."""

__version__ = "0.1.0"

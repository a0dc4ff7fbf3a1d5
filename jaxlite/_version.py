"""The version of jaxlite, in a module of its own so that modules needing it (`jit`: part of every
compile-cache key) need not import the top-level package that imports them."""

__version__ = "0.1.0"

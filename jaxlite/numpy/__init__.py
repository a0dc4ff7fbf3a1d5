"""`jaxlite.numpy`: NumPy's API on jaxlite arrays, composed from primitives (no rules of its own)."""

import numpy as _np

from jaxlite import dtypes as _dtypes
from jaxlite.array import Array as ndarray  # noqa: F401
from jaxlite.numpy._creation import array, asarray  # noqa: F401
from jaxlite.numpy._reductions import sum  # noqa: F401, A004
from jaxlite.numpy._ufuncs import add, cos, exp, log, multiply, sin, subtract, tanh  # noqa: F401

bool_ = _np.bool_
uint8 = _np.uint8
uint32 = _np.uint32
int32 = _np.int32
int64 = _np.int64
float32 = _np.float32
float64 = _np.float64
pi = _np.pi
e = _np.e
inf = _np.inf
nan = _np.nan
newaxis = None
float0 = _dtypes.float0

from jaxlite.numpy import _methods  # noqa: E402

_methods.install()

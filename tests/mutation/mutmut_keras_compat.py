"""pytest plugin loaded only by mutation runs (``-p tests.mutation.mutmut_keras_compat`` in setup.cfg ``[mutmut]``).

mutmut wraps every mutated function in a ``*args, **kwargs`` trampoline (with ``functools.wraps``). Keras builds
a layer's auto-config from ``inspect.getfullargspec(cls.__init__)``, which does not follow ``__wrapped__``, so a
trampolined ``__init__`` of a `keras.layers.Layer` (e.g. `ArcFaceHead`) fails with ``IndexError`` before any test
runs. Unwrapping restores the real signature; outside a mutation run nothing is wrapped and this is a no-op.
"""

import inspect

_getfullargspec = inspect.getfullargspec


def _unwrapping_getfullargspec(func):
    return _getfullargspec(inspect.unwrap(func) if callable(func) and hasattr(func, "__wrapped__") else func)


inspect.getfullargspec = _unwrapping_getfullargspec

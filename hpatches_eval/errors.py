"""Exceptions raised by `hpatches_eval` for inputs a user can get wrong.

They subclass `ValueError` (like ``descriptors.errors``, which this package may not import), so callers can catch
either. The CLI finds them before any work and turns them into a one-line message on stderr and exit status 2.
"""


class DescriptorError(ValueError):
    """A descriptor set is unusable: missing sequence, wrong row count, NaN/inf, mixed dimensions."""


class TaskFileError(ValueError):
    """A task definition file (verification pairs, retrieval queries/distractors, splits) is missing or invalid."""


class EvaluationWarning(UserWarning):
    """Something makes the numbers suspicious (collapsed descriptors, skipped task); also listed in ``flags``."""

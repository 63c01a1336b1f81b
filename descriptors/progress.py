"""The progress bar of every long loop: tqdm, as a notebook widget where ipywidgets is installed, as text elsewhere.

`tqdm.auto` falls back to the text bar by itself when ipywidgets is missing, but warns about it (with the path of
the installed tqdm) on every first use in a notebook; this picks the text bar quietly instead.

Example:
    >>> from descriptors.progress import tqdm
    >>> sum(tqdm(range(3), disable=True))
    3
"""

import importlib.util

if importlib.util.find_spec("ipywidgets") is not None:
    from tqdm.auto import tqdm
else:
    from tqdm import tqdm

__all__ = ["tqdm"]

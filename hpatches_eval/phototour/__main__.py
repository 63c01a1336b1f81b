"""``python -m hpatches_eval.phototour``: see `hpatches_eval.phototour.cli`."""

import sys

from hpatches_eval.phototour.cli import main

if __name__ == "__main__":
    sys.exit(main())

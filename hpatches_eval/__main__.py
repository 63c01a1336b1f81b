"""``python -m hpatches_eval``: see `hpatches_eval.cli`."""

import sys

from hpatches_eval.cli import main

if __name__ == "__main__":
    sys.exit(main())

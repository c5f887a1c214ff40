"""``python -m dhaug ...``: the command line (also what ``torchrun -m dhaug train ...`` starts)."""

import sys

from .cli import main

sys.exit(main())

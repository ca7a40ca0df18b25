"""`python -m engine`: the `rules` command line."""

import sys

from engine.cli import main

sys.exit(main())

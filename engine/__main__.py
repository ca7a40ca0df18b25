"""`python -m engine`: the `rules` command line."""

import sys

from engine.tools.cli import main

sys.exit(main())

"""Run the local engine: ``python -m plexe_tui.engine --help`` lists the options."""

import sys

from plexe_tui.engine.serve import main

if __name__ == "__main__":
    sys.exit(main())

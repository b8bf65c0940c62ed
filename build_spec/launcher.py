"""Entry script of the frozen bundle: the same as the `clerk-app` console script."""

import sys

from clerk_app.command_line import main

if __name__ == "__main__":
    sys.exit(main())

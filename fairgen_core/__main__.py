"""``python -m fairgen_core``."""

import sys

from fairgen_core.cli import main

if __name__ == "__main__":
    sys.exit(main())

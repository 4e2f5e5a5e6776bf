"""`python -m stream_scorer ...`: the same as the `stream-scorer` command."""

import sys

from stream_scorer.cli.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

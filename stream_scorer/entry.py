"""The file spark-submit runs: `spark-submit ... stream_scorer/entry.py run --config FILE`.

spark-submit needs a file path, not a module or a console script; this one hands its
arguments to `stream_scorer.cli.main.main` and exits with its code, so a cluster job and the
`stream-scorer` command behave the same.
"""

import os
import sys

# Python puts a script's own folder first on sys.path; run from inside the package, that
# would expose `config`, `errors`, `models`... as top-level modules shadowing real ones.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

from stream_scorer.cli.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

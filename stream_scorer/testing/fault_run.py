"""The `stream-scorer` command line with the fault `STREAM_SCORER_FAULT` arms (see `faults`).

`python -m stream_scorer.testing.fault_run run --config C` is `stream-scorer run --config C`
whose batches run with the armed fault's hooks: tests start it to kill or stall a scorer at
a named point. The scorer itself never reads the variable.
"""

import sys

from stream_scorer.cli.main import main
from stream_scorer.testing.faults import hooks_from_env

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], hooks=hooks_from_env()))

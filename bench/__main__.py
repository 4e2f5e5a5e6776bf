"""`python -m bench` runs the scoring benchmark, as `python -m bench.run` does."""

from bench.run import main

raise SystemExit(main())

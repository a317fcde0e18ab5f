"""`python -m orchestration.cli ...`: the same as `civic ...` (used where no script is on PATH)."""

import sys

from orchestration.cli.main import main

sys.exit(main())

"""`python -m branchsim`: run a whole branch office in simulation."""

import sys

from branchsim.branch import main

sys.exit(main())

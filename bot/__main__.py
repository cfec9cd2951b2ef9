"""`python -m bot` is the same as `kbot`."""

import sys

from bot.cli import main

sys.exit(main())

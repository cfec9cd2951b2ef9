"""`python -m bot` is the same as `kbot`."""

import sys

from bot.cli.main import main

sys.exit(main())

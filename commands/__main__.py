"""``python -m ringscope.commands ...`` is the ``ringscope`` command."""

import sys

from ringscope.commands.cli import main

sys.exit(main())

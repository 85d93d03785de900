"""``python -m timedist`` is the ``timedist`` command."""

from .cli import main

raise SystemExit(main())

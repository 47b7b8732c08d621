"""`python -m feed`: the `unionfeed` command."""

from feed.app.cli import main

raise SystemExit(main())

"""`python -m clerk_app` does what the `clerk-app` command does."""

from clerk_app.command_line import main

raise SystemExit(main())

"""`python -m forumkit` runs the command line."""

from forumkit.cli import main

main()

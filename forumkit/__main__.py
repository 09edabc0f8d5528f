"""`python -m forumkit` runs the command line."""

from .cli import main

main()

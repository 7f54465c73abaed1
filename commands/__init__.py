"""The ``ringscope`` command line: one module per command group, ``main`` parses and dispatches."""

from ringscope.commands.cli import main

__all__ = ["main"]

"""Run the command line: ``python -m itilmigrate``."""

from __future__ import annotations

from itilmigrate.cli import main

main()

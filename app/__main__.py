"""``python -m app`` is ``baton``."""

from app.cli import main

main()

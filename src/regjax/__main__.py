"""``python -m regjax`` is the ``regjax`` command."""

from regjax.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

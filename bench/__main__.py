"""Run HoSo's benchmarks: `python -m bench` (or `make bench`). Each prints its figures with units."""

from __future__ import annotations

import sys


def main() -> int:
    print("benchmarks: none registered yet", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

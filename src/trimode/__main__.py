"""Run the command line: python -m trimode COMMAND --mode {test,human,production}."""

import sys

try:
    from trimode.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while Python is still importing: no traceback either
    print("interrupted", file=sys.stderr)
    raise SystemExit(130) from None

if __name__ == "__main__":
    raise SystemExit(main())

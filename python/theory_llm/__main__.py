"""``python -m theory_llm``: hello_llm's job for --provider, --model, --prompt and
--json (``python -m theory_llm --help``)."""

import sys

from ._native import cli


def main() -> int:
    try:
        return cli(sys.argv[1:])
    except KeyboardInterrupt:
        # Ctrl-C outside a request (the request itself reports its own).
        return 130


if __name__ == "__main__":
    sys.exit(main())

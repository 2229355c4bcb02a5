"""``python -m lessons``: run every lesson (or some) and write the index; see ``lessons/runner.py``."""

import sys

from lessons.runner import main

if __name__ == "__main__":
    sys.exit(main())

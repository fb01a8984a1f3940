import sys

from coursetool.cli import main

sys.exit(main())

import sys

from tlarena.cli import main

sys.exit(main())

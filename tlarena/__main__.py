import sys

from tlarena.cli import main

if __name__ == "__main__":   # a spawned worker imports this module without running the command
    sys.exit(main())

import sys

from overcast.cli import main

sys.exit(main())

import os

# Tests run in fast mode and never draw progress bars.
os.environ.setdefault("MTASS_MODE", "fast")
os.environ.setdefault("TQDM_DISABLE", "1")

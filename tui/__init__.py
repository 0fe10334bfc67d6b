"""driftdeck's terminal app and command line. Imports ``backends``; nothing imports ``tui``."""

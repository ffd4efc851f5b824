"""Reading the repository through git: the one process wrapper, and dates and revisions."""

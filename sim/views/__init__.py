"""Ways to look at the virtual badge: terminal (live) and PNG files."""

"""The badge application: tasks, screens, message formats and persistence."""

VERSION = "0.1.0"

"""Screens: each builds one displayio group once and updates it from BadgeState."""

"""Host-side simulator of the badge: emulated chips, buses, clock and tools."""

"""What both engines share: the clocks, the event loop that runs on them, the I2C bus and
the UART wire the emulated parts hang on, and the liveness check over the loop's record."""

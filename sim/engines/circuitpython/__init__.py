"""The CircuitPython engine: the official CircuitPython UF2 on an emulated RP2040
(rp2040js under Node), wired to the simulator's own chip emulators, ExpressLink emulator
and broker in lockstep with the RP2040's emulated clock. See :mod:`.badge`."""

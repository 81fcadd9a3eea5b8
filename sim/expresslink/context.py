"""What the module's services share: a narrow context instead of the whole module.

The services (``Connection``, ``ShadowService``, ``OtaService``, ``GeneralCommands``) get
one :class:`ModuleContext`: the configuration, the queues, the clock, ``spawn``, the
cloud link, the fault knobs and a few small state objects below. Each state object has
one owner that changes it; the others only read it. The module acts on the requests in
:class:`PowerState` after each reply.
"""

from sim.expresslink.codes import HINT_MQTT_LOGIN, HINT_NETWORK, HINT_UNREACHABLE
from sim.expresslink.queues import Event

DEFAULT_WALL_CLOCK_EPOCH_S = 1756684800  # 2025-09-01 00:00:00 UTC at simulator time 0

# power phases (PowerState.phase)
OFF = "off"
IN_RESET = "reset"
BOOTING = "booting"
ACTIVE = "active"
SLEEPING = "sleep"

# connection states (Session.state)
DISCONNECTED = "disconnected"
CONNECTING = "connecting"
CONNECTED = "connected"

# knob attribute -> (CONNECT hint, failure text), in the order they are checked
KNOB_HINTS = (("network_down", HINT_NETWORK, "network access failed"),
              ("unreachable", HINT_UNREACHABLE, "endpoint unreachable"),
              ("refuse_connections", HINT_MQTT_LOGIN, "MQTT device authentication failure"))


class FaultKnobs:
    """Faults a test imposes; the module forwards its attributes of the same names here."""

    def __init__(self):
        self.refuse_connections = False  # CONNECT fails with hint 5
        self.unreachable = False  # CONNECT fails with hint 3; DIAG PING gets no reply
        self.network_down = False  # CONNECT fails with hint 2; DIAG PING: no AP
        self.fail_next_connect = None  # hint, or (hint, detail): the next attempt only
        self.reset_mid_command = False  # True or partial reply bytes, then a reboot
        self.hang = False  # no answers, input ignored, until RST
        self.confmode_available = True  # False: CONFMODE answers ERR17
        self.boot_garbage = None  # bytes sent at each boot; None: a random burst

    def forced_connect_failure(self):
        """(hint, detail) the knobs impose on this attempt, or (0, "")."""
        forced = self.fail_next_connect
        if forced is not None:
            self.fail_next_connect = None
            if isinstance(forced, tuple):
                return forced
            return forced, "forced failure"
        for attribute, hint, detail in KNOB_HINTS:
            if getattr(self, attribute):
                return hint, detail
        return 0, ""


class WallClock:
    """The module's time of day for TIME?: valid (``synced``) after the first CONNECT."""

    def __init__(self, clock, epoch_s=DEFAULT_WALL_CLOCK_EPOCH_S):
        self.clock = clock
        self.epoch_s = epoch_s  # wall time (s since the Unix epoch) at simulator time 0
        self.synced = False
        self.words = False  # TIME? answers "date ... time ..." as a real module does

    def now_s(self):
        """Seconds since the Unix epoch, as the module's clock sees them."""
        return self.epoch_s + self.clock.now()

    def set(self, epoch_s):
        """Make the wall clock read ``epoch_s`` now."""
        self.epoch_s = epoch_s - self.clock.now()


class Session:
    """The cloud connection as the services see it; only ``Connection`` changes it."""

    def __init__(self):
        self.state = DISCONNECTED
        self.epoch = 0  # bumps at every connect and disconnect; stale acks compare it
        self.async_connect = False  # a CONNECT! is running

    @property
    def connected(self):
        return self.state == CONNECTED


class PowerState:
    """Power phase and modes; commands ask for reboot, sleep and PEM input here, and the
    module carries the requests out once the command's reply is written."""

    def __init__(self):
        self.phase = OFF
        self.confmode = False
        self.confmode_parameter = ""
        self.reboot_kind = None  # "reset", "factory", "ota" or "watchdog"
        self.sleep_request = None  # (mode, duration s or None)
        self.sleep_mode = None  # 0, 1 or 2 while the phase is SLEEPING
        self.pem_key = None  # CONF {key}=pem: raw certificate lines follow

    @property
    def powered(self):
        return self.phase not in (OFF, IN_RESET)

    def request_reboot(self, kind):
        """Reboot after the current reply: ``reset``, ``factory``, ``ota`` or ``watchdog``."""
        self.reboot_kind = kind

    def request_sleep(self, mode, duration_s):
        """Sleep in ``mode`` after the current reply, for ``duration_s`` (None: until woken)."""
        self.sleep_request = (mode, duration_s)

    def request_pem_input(self, key):
        """Read the certificate for ``key`` as raw lines after the current command."""
        self.pem_key = key


class ModuleContext:
    """Everything a service may use. ``spawn(coro)`` runs background work that a reboot
    or RST cancels; ``event_arrived`` (an asyncio.Event, set once the module starts) is
    set whenever an event is queued."""

    def __init__(self, *, clock, cloud, config, messages, events, knobs, wall_clock, spawn):
        self.clock = clock
        self.cloud = cloud
        self.config = config
        self.messages = messages
        self.events = events
        self.knobs = knobs
        self.wall_clock = wall_clock
        self.spawn = spawn
        self.session = Session()
        self.power = PowerState()
        self.event_arrived = None

    def queue_event(self, event_id, param=0, detail="", mnemonic=None):
        """Queue an event (dropped while the module is off or in reset)."""
        if not self.power.powered:
            return
        self.events.push(Event(event_id, param, detail, mnemonic))
        if self.event_arrived is not None:
            self.event_arrived.set()


class Forward:
    """A module attribute kept by one of its parts: ``module.hang`` is ``module.knobs.hang``."""

    def __init__(self, part, name=None):
        self.part = part
        self.name = name

    def __set_name__(self, owner, name):
        if self.name is None:
            self.name = name

    def __get__(self, module, owner=None):
        if module is None:
            return self
        return getattr(getattr(module, self.part), self.name)

    def __set__(self, module, value):
        setattr(getattr(module, self.part), self.name, value)

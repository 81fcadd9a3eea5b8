"""PEM input after ``CONF {cert}=pem``: raw lines until ``-----END ...``, then one reply."""

from sim.expresslink.codes import ERR_PARAMETER, ModuleError
from sim.expresslink.parser import error_line, ok_line


class PemInput:
    """Collects the raw lines of one certificate for ``key`` of ``config``."""

    def __init__(self, config, key):
        self.config = config
        self.key = key
        self.lines = []
        self.limit = config.specs[key].limit
        self.done = False  # True once the reply was produced

    def add_line(self, line):
        """Take one raw line (bytes); the reply (END line, or limit passed) or None."""
        text = line.decode("utf-8", "replace").strip()
        self.lines.append(text)
        if text.startswith("-----END"):
            self.done = True
            try:
                self.config.assign(self.key, "\n".join(self.lines))
            except ModuleError as exc:
                return error_line(exc)
            return ok_line()
        if sum(len(x) + 1 for x in self.lines) > self.limit:
            self.done = True
            return error_line(ModuleError(ERR_PARAMETER, "certificate too long"))
        return None

"""Reversible monkey patches: everything the CPython engine changes for a run, undone after."""


class Patched:
    """Attributes and mapping items set for one run; :meth:`restore` puts back what was
    there (or removes what was not), newest first."""

    _MISSING = object()

    def __init__(self):
        self._undo = []

    def set(self, obj, name, value):
        self._undo.append((obj, name, getattr(obj, name, self._MISSING)))
        setattr(obj, name, value)

    def set_item(self, mapping, key, value):
        self._undo.append((mapping, key, mapping.get(key, self._MISSING), True))
        mapping[key] = value

    def restore(self):
        while self._undo:
            obj, name, value, *item = self._undo.pop()
            if item:
                if value is self._MISSING:
                    obj.pop(name, None)
                else:
                    obj[name] = value
            elif value is self._MISSING:
                delattr(obj, name)
            else:
                setattr(obj, name, value)

"""A hostile artefact for tests: unpickling it calls a function of the attacker's choice."""


class Calls:
    """Unpickling this calls `function(*args)`, e.g. `os.system('touch marker')`."""

    def __init__(self, function, *args) -> None:
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args

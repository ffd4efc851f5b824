"""The one exception type users see: a message and an exit code, no traceback."""


class KenningError(Exception):
    """A problem the user can act on. The CLI prints `kenning: <message>` and exits."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

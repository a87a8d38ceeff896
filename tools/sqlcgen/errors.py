"""The one error type of the generator: sqlc prints its message and `sqlc generate` fails."""


class GeneratorError(Exception):
    """A query or schema the generator cannot turn into correct Python; `code` is stable for tests."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

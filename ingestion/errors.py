"""A landing file that cannot be read at all: named, with the problem, and nothing loaded."""


class SourceFileError(RuntimeError):
    def __init__(self, path: str, problem: str):
        super().__init__(f"cannot read {path}: {problem}")
        self.path = path
        self.problem = problem

"""The benchmarks' one error: a module of its own, so that a benchmark run as a script and the
modules it imports (which import each other) raise and catch the same class."""


class BenchError(Exception):
    """A tool is missing, an option cannot be honoured, or a daemon or peer answered something
    other than the benchmark needs to go on."""

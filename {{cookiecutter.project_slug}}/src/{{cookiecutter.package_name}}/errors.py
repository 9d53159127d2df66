"""Errors for bad input: the CLI prints their message as one line, without a traceback."""


class ProjectError(Exception):
    """Bad input the user can fix; the message says what and where."""


class ConfigError(ProjectError):
    """A config file is missing, malformed, or holds a value that cannot work."""


class DataError(ProjectError):
    """The data source cannot be read or lacks what the pipeline needs."""

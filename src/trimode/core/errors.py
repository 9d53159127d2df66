"""Errors for bad input: the CLI prints their message as one line, without a traceback."""


class ProjectError(Exception):
    """Bad input the user can fix; the message says what and where."""


class ConfigError(ProjectError):
    """A config file is missing, malformed, or holds a value that cannot work."""


class DataError(ProjectError):
    """The data source cannot be read or lacks what the pipeline needs."""


class ArtifactError(ProjectError):
    """A saved model cannot be trusted: missing, altered, or holding unexpected types."""


class QualityGateFailed(ProjectError):
    """The trained model missed the baseline or a threshold, so nothing was published."""

"""The base of the errors that are bad input, not bugs: a data file, a config value, the
weights, a full disk, a recipe that diverges. A job that ends with one of them logs its
message alone, one line, without a traceback (alvae.logs)."""


class UserError(Exception):
    """Bad input: the message names the key or the file and says what to do."""


class ConfigError(UserError, ValueError):
    """A configuration value that cannot work; the message names the key."""

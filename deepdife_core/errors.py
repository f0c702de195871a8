"""Project errors.

Every problem caused by the user's input raises :class:`DeepDifEInputError` with a
message that names the file, the record or line, the bad value and the fix.  The
CLI turns it into exit code 2 and one line on stderr; the dashboard shows it with
``st.error``.  Any other exception is a bug.
"""

from __future__ import annotations


class DeepDifEError(Exception):
    """Base class of all DeepDifE errors."""


class DeepDifEInputError(DeepDifEError, ValueError):
    """Bad user input: the message is meant to be shown to the user as is."""


class ArtifactError(DeepDifEError):
    """A model folder is missing, incomplete or unsafe to load."""

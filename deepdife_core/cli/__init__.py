"""The ``deepdife`` command line: one module per command group.

Modules: :mod:`.main` (the parser, ``dataset``, ``train``, ``evaluate``,
``predict``, ``import-legacy``, ``demo`` and error mapping: library errors
become one ``error:`` line and exit code 2), :mod:`.explain`, :mod:`.motifs`,
:mod:`.tune` (their command groups).  Defaults of every option are read from the
config dataclasses.
"""

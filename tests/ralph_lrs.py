"""Ralph's command line, with its file-system LRS backend appending statements.

Ralph 5's ``fs`` LRS backend writes every POST with the ``create`` operation,
which refuses to write to its statements file once it exists: only the first
POST is stored and the next ones answer 500. The delivery test POSTs many
batches, so this launcher makes the backend append (an operation the backend
has) and then runs Ralph's own CLI unchanged::

    python tests/ralph_lrs.py runserver -b fs ...
"""

from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

if __name__ == "__main__":
    from ralph.__main__ import cli  # the module ralph's console script runs

    cli.cli()

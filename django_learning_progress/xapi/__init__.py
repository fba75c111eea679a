"""Learning records: every progress event as an xAPI statement.

An optional Django app. Add ``"django_learning_progress.xapi"`` to
``INSTALLED_APPS`` (after ``"django_learning_progress"``), migrate, and turn
it on with ``LEARNING_PROGRESS["XAPI"]["ENABLED"]``. Statements are written to
an outbox table (:class:`~django_learning_progress.xapi.models.XapiStatement`)
in the same transaction as the change they record, and delivered to a
Learning Record Store by the ``send_xapi_statements`` management command.
The core never imports this package.
"""

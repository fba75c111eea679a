"""The test settings for a host shaped like a real LMS (``tests/lmshost``).

Django's own user model, a ``Course`` with a publishing status, a quiz model
that is a multi-table subclass of the task model, unpublished and
soft-deleted tasks, options with ``is_correct``, and the host's old progress
table still installed. Run ``tests/test_lmshost.py`` with it (tox env
``lmshost``); the rest of the suite needs ``tests.settings``.
"""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [
    "tests.lmshost" if app == "tests.testapp" else app
    for app in INSTALLED_APPS  # the host's app before django_learning_progress
]

AUTH_USER_MODEL = "auth.User"
LEARNING_PROGRESS_COURSE_MODEL = "lmshost.Course"
LEARNING_PROGRESS_TASK_MODEL = "lmshost.LearningTask"
LEARNING_PROGRESS_QUIZ_MODEL = "lmshost.QuizTask"
LEARNING_PROGRESS_QUESTION_MODEL = "lmshost.Question"
LEARNING_PROGRESS = {
    "CONTENT_ADAPTER": "tests.lmshost.adapter.LmsAdapter",
    "INSTRUCTOR_CHECK": "tests.lmshost.access.teaches",
}

"""The test settings with the enrollment and quiz attempt models swapped."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [
    *INSTALLED_APPS[: INSTALLED_APPS.index("django_learning_progress")],
    "tests.swapped",
    *INSTALLED_APPS[INSTALLED_APPS.index("django_learning_progress") :],
]

LEARNING_PROGRESS_ENROLLMENT_MODEL = "swapped.CohortEnrollment"
LEARNING_PROGRESS_QUIZ_ATTEMPT_MODEL = "swapped.ProctoredAttempt"

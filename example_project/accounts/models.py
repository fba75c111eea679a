"""The LMS's user model, with the progress helpers of django-learning-progress.

``LearningProgressUserMixin`` adds no fields: it gives every user methods such
as ``user.get_enrolled_courses()`` and ``user.get_course_progress(course)``.
"""

from django.contrib.auth.models import AbstractUser

from django_learning_progress.mixins import LearningProgressUserMixin


class User(LearningProgressUserMixin, AbstractUser):
    """A learner, instructor or administrator."""

"""A host registers its swapped-in models with the library's admin classes."""

from django.contrib import admin

from django_learning_progress.admin import CourseEnrollmentAdmin, QuizAttemptAdmin
from tests.swapped.models import CohortEnrollment, ProctoredAttempt

admin.site.register(CohortEnrollment, CourseEnrollmentAdmin)
admin.site.register(ProctoredAttempt, QuizAttemptAdmin)

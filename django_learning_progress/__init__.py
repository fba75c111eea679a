"""Learner progress tracking for Django LMS projects."""

__version__ = "0.1.0.dev0"

"""Template libraries of the app: ``learning_progress_units`` (figures in human units)."""

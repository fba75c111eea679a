"""Benchmark suite of django-learning-progress (``python bench/run.py --help``)."""

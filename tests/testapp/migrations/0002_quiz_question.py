# Quizzes arrived in this "LMS" after its first release, as in many real ones.
# The progress app's first migration references the quiz and question models,
# so this migration must run before it.

import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("testapp", "0001_initial"),
    ]

    run_before = [
        ("learning_progress", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Quiz",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=200)),
                ("max_attempts", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "pass_mark",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True),
                ),
                (
                    "time_limit",
                    models.PositiveIntegerField(blank=True, help_text="minutes", null=True),
                ),
                (
                    "course",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="quizzes",
                        to="testapp.course",
                    ),
                ),
            ],
            options={
                "ordering": ["title"],
            },
        ),
        migrations.CreateModel(
            name="Question",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("text", models.CharField(max_length=200)),
                ("kind", models.CharField(default="choice", max_length=10)),
                ("answer", models.JSONField(blank=True, null=True)),
                (
                    "marks",
                    models.DecimalField(decimal_places=2, default=Decimal("1"), max_digits=6),
                ),
                ("position", models.PositiveIntegerField(default=0)),
                (
                    "quiz",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="questions",
                        to="testapp.quiz",
                    ),
                ),
            ],
            options={
                "ordering": ["position"],
            },
        ),
    ]

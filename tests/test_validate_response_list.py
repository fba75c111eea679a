"""validate_response may raise a ValidationError of a list or a dict of messages."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from django_learning_progress import services
from django_learning_progress.content import get_content_adapter
from tests.conftest import build_course

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error",
    [
        ValidationError(["Choose an option.", "Or two."]),
        ValidationError({"response": "Choose an option."}),
    ],
)
def test_adapter_refusing_with_a_list_or_dict_error_is_a_validation_error(
    make_user: Any, monkeypatch: pytest.MonkeyPatch, error: ValidationError
) -> None:
    learner = make_user()
    tree = build_course()
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])

    def refuse(question: Any, response: Any) -> None:
        raise error

    monkeypatch.setattr(get_content_adapter(), "validate_response", refuse)
    with pytest.raises(ValidationError) as excinfo:
        services.answer_question(learner, attempt, tree.questions[0], "x")
    assert "response" in excinfo.value.message_dict

"""Password rules for 等保 (MLPS) level-3 style complexity."""

from __future__ import annotations

import string
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class ComplexityValidator:
    """At least ``min_length`` characters and at least 3 of: upper, lower, digit, symbol."""

    def __init__(self, min_length: int = 10, min_classes: int = 3) -> None:
        self.min_length = min_length
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        errors = []
        if len(password) < self.min_length:
            errors.append(
                ValidationError(
                    _("密码至少需要 %(n)d 个字符。") % {"n": self.min_length},
                    code="password_too_short",
                )
            )
        classes = sum(
            [
                any(c.isupper() for c in password),
                any(c.islower() for c in password),
                any(c.isdigit() for c in password),
                any(
                    c in string.punctuation or (not c.isalnum() and not c.isspace())
                    for c in password
                ),
            ]
        )
        if classes < self.min_classes:
            errors.append(
                ValidationError(
                    _("密码须包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。")
                    % {"n": self.min_classes},
                    code="password_too_simple",
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _("至少 %(len)d 个字符，且包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。") % {
            "len": self.min_length,
            "n": self.min_classes,
        }

"""The AIMG password rule, as a Django password validator."""

import re

from django.core.exceptions import ValidationError

SPECIAL_CHARACTERS = "!@#$%^&*()_+-=[]{};':\"\\|,.<>/?"
# The regular expression the AIMG spec gives front ends.
SPEC_PATTERN = re.compile(r"^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])(?=.*[!@#$%^&*()_+\-=\[\]{};':\"\\|,.<>/?]).{8,}$")


class SpecPasswordValidator:
    """At least 8 characters, with an uppercase and a lowercase letter, a digit and a special
    character from ``!@#$%^&*()_+-=[]{};':"\\|,.<>/?``."""

    def validate(self, password, user=None):
        problems = []
        if len(password) < 8:
            problems.append("be at least 8 characters long")
        if not re.search(r"[A-Z]", password):
            problems.append("contain an uppercase letter (A-Z)")
        if not re.search(r"[a-z]", password):
            problems.append("contain a lowercase letter (a-z)")
        if not re.search(r"[0-9]", password):
            problems.append("contain a digit (0-9)")
        if not any(ch in SPECIAL_CHARACTERS for ch in password):
            problems.append(f"contain a special character ({SPECIAL_CHARACTERS})")
        if problems:
            raise ValidationError("The password must " + ", ".join(problems) + ".", code="password_rule")

    def get_help_text(self):
        return (
            "At least 8 characters, with an uppercase and a lowercase letter, a digit and a special character "
            f"({SPECIAL_CHARACTERS})."
        )

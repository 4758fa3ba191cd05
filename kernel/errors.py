from django.core.exceptions import ValidationError


class RuleViolation(ValidationError):
    """A change refused by one of the rules that always hold (docs/RULES.md section 1).

    A ValidationError, so forms and the admin show its message next to the input.
    """

from django.core.exceptions import ValidationError


class RuleViolation(ValidationError):
    """A change refused by one of the rules that always hold (PRODUCT.md section 7).

    A ValidationError, so forms and the admin show its message next to the input.
    """

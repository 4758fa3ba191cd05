from django.core.exceptions import PermissionDenied, ValidationError


class RuleViolation(ValidationError):
    """A change refused by one of the rules that always hold (docs/RULES.md section 1).

    A ValidationError, so forms and the admin show its message next to the input.
    """


class CapabilityMissing(PermissionDenied):
    """A member of a workspace lacks the capability a page or a change needs (a 403).

    The message names the capability for the person; ``capability`` (its codename) and
    ``workspace_id`` let the 403 page say who in that workspace holds it.
    """

    def __init__(self, message: str, *, capability: str, workspace_id: int):
        super().__init__(message)
        self.capability = capability
        self.workspace_id = workspace_id

"""One confirmation step for every control that destroys something or costs money.

A guarded control acts only on a POST that carries ``confirm=yes`` (and, for the gravest ones,
the phrase the page asks to type). Anything else — a GET, or the first POST from an inline button
of a list — answers with a confirmation page that names what will happen, repeats the POST's own
fields as hidden inputs, and posts back to the same URL with the confirmation. So a forged or
hurried POST changes nothing, the page works without JavaScript, and the controls on the list pages
stay one small form each.

Two ways to use it, both rendering ``templates/confirm.html`` (or a view's own template that
includes ``_confirm_form.html``):

- ``ConfirmMixin`` for a control that acts on POST (a delete page, an inline "Revoke" button):
  put it first in the bases, write ``confirmation()``, and put the action in ``confirmed(...)``
  (by default the next class's ``post``, e.g. ``WorkspaceActionView``'s ``act``).
- ``ConfirmFormMixin`` for a ``FormView`` whose valid submission costs or destroys (a plan change,
  a deletion request): the form is checked first, then its cleaned data can be named on the
  confirmation page; only a confirmed, valid submission reaches ``form_valid``. ``confirmation()``
  may answer None when this submission has nothing to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.template.response import TemplateResponse

CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"
PHRASE_FIELD = "confirm_phrase"
# Never repeated as hidden inputs: the token is the form's own, the others are the answer.
NOT_CARRIED = frozenset({"csrfmiddlewaretoken", CONFIRM_FIELD, PHRASE_FIELD})


@dataclass
class Confirmation:
    """What the confirmation page says and asks.

    ``consequences`` are sentences, each one thing that will happen; ``phrase``, when set, must be
    typed (compared without case or surrounding spaces) before the control acts; ``costly`` makes
    the button the plain kind instead of the danger one.
    """

    title: str
    button: str
    cancel_url: str
    consequences: list[str] = field(default_factory=list)
    phrase: str = ""
    phrase_label: str = ""
    costly: bool = False
    error: str = ""
    carried: list[tuple[str, str]] = field(default_factory=list)


def carried_fields(data) -> list[tuple[str, str]]:
    """The submitted fields to post again with the confirmation (every value of each)."""
    return [(name, value) for name in data for value in data.getlist(name) if name not in NOT_CARRIED]


def confirmation_refusal(data, phrase: str = "") -> str | None:
    """Why ``data`` (a POST) does not confirm yet: "" when it was never asked, a message when the
    typed phrase is wrong, None when it confirms."""
    if data.get(CONFIRM_FIELD) != CONFIRM_VALUE:
        return ""
    if phrase and data.get(PHRASE_FIELD, "").strip().casefold() != phrase.strip().casefold():
        return f"Type {phrase} exactly as shown to confirm; nothing was changed."
    return None


class _ConfirmPage:
    # None: the view's own template (a delete page that includes ``_confirm_form.html``), else the
    # shared page.
    confirm_template_name: str | None = None

    def confirmation(self) -> Confirmation | None:
        """What to ask; None when this submission has nothing to confirm (it changes nothing)."""
        raise NotImplementedError

    def confirmation_page(self, confirmation: Confirmation | None = None, *, error: str = "", **context):
        """The confirmation page: a 200 when it first asks, a 400 when the typed phrase was wrong."""
        confirmation = confirmation or self.confirmation()
        confirmation.error = error
        if self.request.method == "POST":
            confirmation.carried = carried_fields(self.request.POST)
        context = self.get_context_data(confirmation=confirmation, **context)
        template = self.confirm_template_name or getattr(self, "template_name", None) or "confirm.html"
        return TemplateResponse(self.request, template, context, status=400 if error else 200)

    def unconfirmed(self, **context):
        """None when the POST confirms; otherwise the page that asks for it, and nothing changed."""
        confirmation = self.confirmation()
        if confirmation is None:
            return None
        refusal = confirmation_refusal(self.request.POST, confirmation.phrase)
        if refusal is None:
            return None
        return self.confirmation_page(confirmation, error=refusal, **context)


class ConfirmMixin(_ConfirmPage):
    """A POST control that acts only once confirmed; GET and an unconfirmed POST show the page."""

    http_method_names = ["get", "post"]

    def get(self, request, *args, **kwargs):
        return self.confirmation_page()

    def post(self, request, *args, **kwargs):
        return self.unconfirmed() or self.confirmed(request, *args, **kwargs)

    def confirmed(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class ConfirmFormMixin(_ConfirmPage):
    """A ``FormView`` whose valid submission is confirmed before its ``form_valid`` runs;
    ``confirmation()`` may read ``self.confirming_form.cleaned_data``."""

    confirm_template_name = "confirm.html"
    confirming_form = None

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if not form.is_valid():
            return self.form_invalid(form)
        self.confirming_form = form
        return self.unconfirmed(form=form) or self.form_valid(form)

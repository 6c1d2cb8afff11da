"""The language practice page and the JSON endpoint that gives suggestions while writing.

Any form can offer suggestions beside a textarea: include
``templates/language/_suggestions.html`` (``language_panel``), give the
textarea ``data-language-check="<panel id>"`` and load ``static/js/language.js``.
Without JavaScript, a form re-renders itself with ``language_suggestions``.
"""

from __future__ import annotations

from flask import Blueprint, get_template_attribute, jsonify, render_template, request

from lms.authz.access import requires
from lms.language import services
from lms.language.forms import PracticeForm

bp = Blueprint("language", __name__)
NAVIGATION = [
    (46, "Language practice", "language.practice", None),
]


def suggestions_html(findings) -> str:
    """The suggestions partial rendered on its own (what the JSON endpoint sends back)."""
    return str(get_template_attribute("language/_suggestions.html", "language_suggestions")(findings, True))


@bp.route("/language/practice", methods=["GET", "POST"])
@requires()
def practice():
    form = PracticeForm()
    errors, findings, segments, checked = [], [], [], False
    if form.validate_on_submit():
        text = form.text.data or ""
        problem = services.too_long(text)
        if problem:
            errors.append(("text", problem))
        elif not text.strip():
            errors.append(("text", "Write or paste some text to check."))
        else:
            findings = services.suggestions_for(text)
            segments = services.marked_text(text, findings)
            checked = True
    status = 400 if errors else 200
    return render_template("language/practice.html", form=form, errors=errors, findings=findings,
                           segments=segments, checked=checked), status


@bp.route("/language/check", methods=["POST"])
@requires()
def check():
    """Suggestions for ``text`` (JSON body or form field), as JSON and as ready-made HTML.

    Nothing is stored or logged; only the person who sent the text sees the answer.
    """
    payload = request.get_json(silent=True) if request.is_json else None
    text = (payload or {}).get("text") if payload is not None else request.form.get("text", "")
    if not isinstance(text, str):
        return jsonify(error="Send the text to check as a string."), 400
    problem = services.too_long(text)
    if problem:
        return jsonify(error=problem), 400
    findings = services.suggestions_for(text)
    return jsonify(findings=services.findings_as_json(findings), html=suggestions_html(findings))

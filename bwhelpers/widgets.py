"""
bwhelpers.widgets
~~~~~~~~~~~~~~~~~

The walkthrough's presentation under its historical name: everything here lives in :mod:`bwhelpers.ui`, split by
job (``ui.display`` results and errors, ``ui.progress`` the progress strip and waits, ``ui.forms`` the step forms,
``ui.credentials`` the credentials form, ``ui.export`` the Postman export), and shows through one sink,
:mod:`bwhelpers.ui.output`. Colours are in :mod:`bwhelpers.theme`.
"""
from __future__ import annotations

from .ui.credentials import CredentialsForm
from .ui.display import (ObjectView, error_html, order_bar_html, result_html, show_callout, show_error, show_note,
                         show_request, show_response, show_saved)
from .ui.export import ExportForm, export_form
from .ui.forms import (SEARCH_CRITERIA, Form, application_form, confirm_button, criterion_problem, location_form,
                       message_form, order_form)
from .ui.progress import Progress, Waiting, done_steps, progress_html, progress_widget, refresh_progress, statuses

__all__ = ["CredentialsForm", "ObjectView", "error_html", "order_bar_html", "result_html", "show_callout",
           "show_error", "show_note", "show_request", "show_response", "show_saved", "ExportForm", "export_form",
           "SEARCH_CRITERIA", "Form", "application_form", "confirm_button", "criterion_problem", "location_form",
           "message_form", "order_form", "Progress", "Waiting", "done_steps", "progress_html", "progress_widget",
           "refresh_progress", "statuses"]


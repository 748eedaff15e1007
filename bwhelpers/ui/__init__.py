"""The walkthrough's presentation, split by job; every module shows things through :mod:`.output` (one sink).

* :mod:`.output` — the one output sink (``emit``), and ``capture()`` for tests;
* :mod:`.display` — a request, a response, a saved id, an error, a callout, an order's bar;
* :mod:`.progress` — the progress strip of the guide's steps, and waits in words;
* :mod:`.forms` — the step input forms (validated in the widget) and the teardown confirmation;
* :mod:`.credentials` — the credentials form (the form only: connecting is :func:`bwhelpers.connection.connect_form`);
* :mod:`.export` — the Postman export form and its downloads.

Colours come from :mod:`bwhelpers.theme` (JupyterLab's ``--jp-*`` variables); tables from :mod:`bwhelpers.views`.
"""

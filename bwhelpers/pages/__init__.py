"""The walkthrough page's parts, one module per concern, composed by :class:`bwhelpers.walkthrough.Page`:
:mod:`.base` (what the parts use of the page), :mod:`.readbacks` (tables of what exists), :mod:`.events`
(simulations, waits for events, a real account's outcome), :mod:`.pictures` (the MMS step)."""

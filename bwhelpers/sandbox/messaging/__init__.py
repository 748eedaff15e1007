"""
bwhelpers.sandbox.messaging
~~~~~~~~~~~~~~~~~~~~~~~~~~~

Messaging v2 (JSON): send and list messages on both URL eras, asynchronous delivery reported by
callbacks. ``on_start``/``on_stop`` run the callback dispatcher on the server's IOLoop.
"""
from __future__ import annotations

from typing import Any

from .. import callbacks
from . import models  # noqa: F401  (registers the schema)

_dispatchers: dict[str, callbacks.Dispatcher] = {}


def on_start(ctx: Any) -> None:
    dispatcher = callbacks.Dispatcher(ctx.db, instance=ctx.instance, signing_key=ctx.admin_key,
                                      bin_prefix=ctx.url_prefix, policy=ctx.callback_policy,
                                      local_origins=ctx.local_bin_origins,
                                      account_share=callbacks.ACCOUNT_SHARE if ctx.workshop else None)
    dispatcher.start()
    _dispatchers[ctx.instance] = dispatcher


def on_stop(ctx: Any) -> None:
    dispatcher = _dispatchers.pop(ctx.instance, None)
    if dispatcher is not None:
        dispatcher.stop()

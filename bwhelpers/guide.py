"""The guide's defaults (Bandwidth's *Messaging 2.0 API Setup*, 2018) and the sandbox's well-known numbers:
THE one place each value is written; Setup, the flows, the forms, the pages and the Postman collection read it."""
from __future__ import annotations

__all__ = ["APPLICATION_NAME", "LOCATION_NAME", "AREA_CODE", "SEARCH_QUANTITY", "PROXY_PEER_ID", "MESSAGE_TEXT",
           "SANDBOX_PHONE", "TO_NUMBER_ENV", "DELIVERED_TO", "HELLO_TEXT", "REPLY_TEXT"]

#: the guide's application name (``AppName``)
APPLICATION_NAME = "Demo Server"
#: the guide's location (sippeer) name (``PeerName``)
LOCATION_NAME = "Bandwidth Messaging 2 test"
#: the guide's area code for the number order
AREA_CODE = "910"
#: how many numbers a default search lists
SEARCH_QUANTITY = 5
#: the ``ProxyPeerId`` of the guide's SMS and MMS feature bodies
PROXY_PEER_ID = "539692"
#: the guide's message text
MESSAGE_TEXT = "Good morning, this is a test message"
#: a sandbox phone that is not yours: a destination reported delivered, and the sender of simulated replies
SANDBOX_PHONE = "+19195550123"
#: on a real account the send step's destination is your own phone; this variable fills it in (headless runs),
#: since SANDBOX_PHONE is a fictional 555-01xx number that receives nothing
TO_NUMBER_ENV = "BW_TO_NUMBER"
#: the first of the sandbox's magic destinations (delivered; ``GET /_sandbox/magic-numbers``)
DELIVERED_TO = "+12015550100"
#: the text ``Setup.run_all`` sends
HELLO_TEXT = "Hello from the sandbox"
#: the text of a simulated reply
REPLY_TEXT = "Hi! This is a reply."

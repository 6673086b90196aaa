"""`/zmq/events`: a connection's subscribe/unsubscribe messages, and the events of the
`EventHub` whose topic starts with a subscribed prefix, sent as `[topic, JSON event]`."""

from __future__ import annotations

import logging

from aiohttp import WSCloseCode

from elektraweb.cluster.events.hub import RESYNC_TOPIC, Subscription
from elektraweb.cluster.http.zws import MessageAssembler, ZwsProtocolError, parse_subscription
from elektraweb.cluster.http.zws_connection import ZwsConnection

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 256
"""Prefixes one events connection may hold."""
MAX_SUBSCRIPTION_BYTES = 4096
"""Largest subscription message on `/zmq/events`: the 0x01/0x00 byte plus the prefix."""


async def follow_subscriptions(connection: ZwsConnection, subscription: Subscription) -> None:
    """Change `subscription` as the peer asks until the connection ends; raises
    ZwsProtocolError for anything but a subscription, or one too many."""
    assembler = MessageAssembler(max_message_bytes=MAX_SUBSCRIPTION_BYTES)
    async for message in connection.messages(assembler):
        change = parse_subscription(message)
        if not change.subscribe:
            subscription.unsubscribe(change.prefix)
        elif len(subscription.prefixes | {change.prefix}) > MAX_SUBSCRIPTIONS:
            raise ZwsProtocolError(
                WSCloseCode.POLICY_VIOLATION, f"more than {MAX_SUBSCRIPTIONS} subscriptions"
            )
        else:
            subscription.subscribe(change.prefix)


async def forward(connection: ZwsConnection, subscription: Subscription) -> None:
    """Send events until the hub closes (1001); a peer that fell behind is sent `resync` by
    the hub instead of what it missed."""
    try:
        async for event in subscription:
            if event.topic == RESYNC_TOPIC:
                log.warning(
                    "zws events: %s fell behind; %d events dropped, told to resync",
                    connection.request.remote,
                    event.data["dropped"],
                )
            await connection.send([event.topic_bytes, event.payload])
    except Exception:
        log.exception("zws events: sending failed")
        connection.ask_to_close(WSCloseCode.INTERNAL_ERROR, b"server error")
        return
    # The hub closed, or this connection is ending and closed its subscription.
    connection.ask_to_close(WSCloseCode.GOING_AWAY, b"event hub closed")

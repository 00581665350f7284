"""One message from the back office to the broker, for the operator commands."""

from __future__ import annotations

import threading

from paho.mqtt.reasoncodes import ReasonCode

from backoffice.config import BackofficeConfig
from uplink.session import make_client


def publish_once(
    config: BackofficeConfig, topic: str, body: bytes, *, retain: bool, timeout_s: float = 10.0
) -> str | None:
    """Connect as the back office, publish at QoS 1 and wait for the broker's answer.

    Returns:
        None when the broker accepted the message, else what went wrong and what to check.
    """
    broker = config.broker
    client = make_client(f"backoffice-cli-{config.receiver.receiver_id}", broker)
    client.on_socket_register_write = None  # paho's loop thread writes
    answered = threading.Event()
    reasons: list[ReasonCode] = []

    def on_publish(_c: object, _u: object, _mid: int, reason: ReasonCode, _p: object) -> None:
        reasons.append(reason)
        answered.set()

    client.on_publish = on_publish
    try:
        client.connect(broker.host, broker.port)
    except OSError as exc:
        return f"cannot reach the broker at {broker.host}:{broker.port} ({exc})"
    client.loop_start()
    try:
        client.publish(topic, body, qos=1, retain=retain)
        if not answered.wait(timeout_s):
            return f"no answer from the broker at {broker.host}:{broker.port}"
    finally:
        client.disconnect()
        client.loop_stop()
    if reasons[0].is_failure:
        return f"the broker refused {topic}: {reasons[0]}; check the certificate and the ACL"
    return None

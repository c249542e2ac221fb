"""Signs a webhook body with PyPI's `standardwebhooks` (an independent implementation of the
Standard Webhooks scheme) for tests/api/webhooks.rs.

Usage: sign.py SECRET MSG_ID UNIX_TIMESTAMP < body
Prints the three headers as one JSON object: webhook-id, webhook-timestamp, webhook-signature.
"""
import json
import sys
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook


def main() -> None:
    secret, msg_id, stamp = sys.argv[1], sys.argv[2], int(sys.argv[3])
    body = sys.stdin.buffer.read().decode("utf-8")
    when = datetime.fromtimestamp(stamp, tz=timezone.utc)
    signature = Webhook(secret).sign(msg_id, when, body)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature,
    }
    print(json.dumps(headers))


if __name__ == "__main__":
    main()

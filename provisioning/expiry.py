"""What renews each dated thing of the fleet's PKI, as `provision` says it when one is due.

When a thing is due (30 days ahead, or past) is `configkit.expiry`'s, shared with the back office.
"""

from __future__ import annotations

# What renews each, as the warnings and failures say it.
RENEW_DEVICE = (
    "renew it on this device, with the CA stick: `provision device rotate --ca /mnt/lapak-ca`"
)
RENEW_CA = (
    "make the fleet's next CA before then (`provision ca init --dir NEW`), add its certificate "
    "to every broker's and device's ca.crt, and re-issue each device from it (`provision device "
    "rotate --ca NEW`) and each broker (`provision render --role broker --ca NEW ...`)"
)
RENEW_BROKER = (
    "on the broker, with the CA stick: `provision render --role broker --ca /mnt/lapak-ca "
    "--server-name NAME` (it re-issues a certificate within 30 days of its end), then "
    "`systemctl restart mosquitto`"
)
RENEW_CRL = (
    "re-sign it: `provision ca crl --dir /mnt/lapak-ca`, copy crl.pem to every broker's "
    "/etc/mosquitto/lapak/crl.pem and `systemctl restart mosquitto` (a broker started with an "
    "outdated CRL refuses every device)"
)

"""Connector tokens and passwords: kept by ``oms.core.secrets`` (the OS keyring, or an encrypted file where
there is none), which the station's own database password uses too. Named here for the connectors."""

from oms.core.secrets import (  # noqa: F401 - the connectors' names for the one secret store
    SERVICE,
    delete_secret,
    get_secret,
    set_secret,
    sftp_secret_name,
    store_name,
    uses_keyring,
)

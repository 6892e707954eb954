"""Station settings, each declared once with a type and a default, kept in a JSON file."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from oms.core.errors import InvalidInput
from oms.core.i18n import _


def config_dir() -> Path:
    override = os.environ.get("OMS_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("Quayside", "Quayside"))


def _default_station() -> str:
    return socket.gethostname().split(".")[0][:64] or "station"


@dataclass
class Settings:
    """Everything a station remembers between runs, except window state (QSettings)."""

    database_url: str = ""
    backup_folder: str = ""  # empty: backups/ beside the SQLite file (oms.backup.backup_folder)
    station_name: str = field(default_factory=_default_station)
    station_role: str = "office"  # office, packing, picking or receiving (desktop/roles.py; asked by the first-run wizard)
    demo_data: bool = True  # an empty database gets the demo products and orders at start; False: it stays empty
    user: str = ""
    company_name: str = "Harbor & Pine Goods"
    gs1_company_prefix: str = "0614141"
    document_printer: str = ""
    label_printer: str = ""  # CUPS queue name, or socket://host:9100 / tcp://host:port for a raw ZPL printer
    paper_size: str = "Letter"
    # Documents and labels (oms.documents): what the label printer speaks, what the shop prints.
    label_format: str = "zpl"  # "zpl" for thermal printers, "pdf" for any CUPS printer
    label_dpi: int = 203  # 203 or 300, the label printer's resolution (ZPL only)
    return_address: str = ""  # lines separated by newlines; empty: the shipping location's address
    logo_path: str = ""  # PNG or JPEG printed on packing slips
    return_instructions: str = (
        "To return an item, write to us within 30 days with your order number. "
        "Pack it with this slip and send it to the return address above."
    )
    over_receipt_percent: int = 0  # how far a delivery may exceed a PO line when its supplier sets no tolerance
    sscc_serial_start: int = 1  # first SSCC serial reference used for this company prefix
    scanner_max_interval_ms: int = 35
    scanner_min_length: int = 4
    scanner_prefix: str = ""
    scanner_suffix: str = ""
    sound_enabled: bool = True
    idle_lock_seconds: int = 300  # a station where people sign in locks after this long without a key or click; 0: never

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> "Settings":
        path = cls.path()
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                _("The settings file {path} cannot be read ({error}). Fix or delete it.").format(path=path, error=exc)
            ) from exc
        known = {f.name: f for f in fields(cls)}
        values = {}
        for key, value in data.items():
            f = known.get(key)
            if f is None:
                continue  # a setting from a newer or older version: ignore, keep the rest
            expected = type(getattr(cls(), key))
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise InvalidInput(
                    _("The setting {key} in {path} should be a {kind}.").format(
                        key=key, path=path, kind=expected.__name__
                    )
                )
            values[key] = value
        return cls(**values)

    def save(self) -> None:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)

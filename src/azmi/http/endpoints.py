"""The public URLs of each surface, known once the listening sockets are bound."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Endpoints:
    arm: str = ""
    login: str = ""
    imds: str = ""
    appservice: str = ""
    blob: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

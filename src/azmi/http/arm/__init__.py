"""ARM: the control plane's REST surface (azure-wire.md §4, sdk-compat §7)."""

from azmi.http.arm.app import create_arm_app

__all__ = ["create_arm_app"]

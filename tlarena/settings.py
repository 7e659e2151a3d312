"""Settings: what a method may see of the target while it trains."""
from __future__ import annotations

from enum import Enum


class Setting(str, Enum):
    """The four settings of DESIGN.md; a pair's label spaces decide which of them apply to it."""

    UDA = "uda"                # labeled source, unlabeled target
    FEW_SHOT = "few-shot"      # k target labels per class, the rest of the target unlabeled
    SUPERVISED = "supervised"  # every target training label
    TASK = "task"              # target labels in a label space other than the source's

    @property
    def target_labels(self) -> str:
        """Which target training labels the setting reveals: 'none', 'few' or 'all'."""
        return {"uda": "none", "few-shot": "few"}.get(self.value, "all")


def settings_for(shared_label_space: bool) -> tuple[Setting, ...]:
    """The settings that make sense for a pair: DA settings when labels are shared, else task transfer."""
    if shared_label_space:
        return (Setting.UDA, Setting.FEW_SHOT, Setting.SUPERVISED)
    return (Setting.TASK,)


def parse_setting(text: str) -> Setting:
    try:
        return Setting(text)
    except ValueError:
        choices = ", ".join(s.value for s in Setting)
        raise ValueError(f"unknown setting {text!r}; choose from {choices}") from None

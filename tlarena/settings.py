"""Settings: what a method may see of the source and the target while it trains.

``VISIBILITY`` is the one table of the compatibility matrix: for each setting, which data a method
may be given and which pairs the setting applies to. The grid, the streams and the data parts all
read it; nothing else decides what a setting allows.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Setting(str, Enum):
    """The settings of DESIGN.md; a pair's label spaces and sources decide which of them apply."""

    UDA = "uda"                    # labeled source, unlabeled target
    FEW_SHOT = "few-shot"          # k target labels per class, the rest of the target unlabeled
    SUPERVISED = "supervised"      # every target training label
    TASK = "task"                  # target labels in a label space other than the source's
    DG = "dg"                      # several labeled source domains, no target data at all
    SOURCE_FREE = "source-free"    # the source model and unlabeled target, no source data
    TEST_TIME = "test-time"        # the source model adapts online on the test stream

    @property
    def target_labels(self) -> str:
        """Which target training labels the setting reveals: 'none', 'few' or 'all'."""
        return VISIBILITY[self].target_labels

    @property
    def sees(self) -> "Visibility":
        return VISIBILITY[self]


@dataclass(frozen=True)
class Visibility:
    """What one setting lets a method see, and which pairs it applies to."""

    source_data: bool            # labeled source batches (for methods with uses_source_data)
    unlabeled_target: bool       # target training images without labels
    target_labels: str           # "none", "few" or "all" of the target's training labels
    shared_label_space: bool     # applies to pairs whose target shares the source's labels
    multi_source: bool = False   # applies only to pairs whose source pools several domains
    online: bool = False         # the method adapts on the test stream as it predicts


VISIBILITY: dict[Setting, Visibility] = {
    Setting.UDA: Visibility(source_data=True, unlabeled_target=True, target_labels="none",
                            shared_label_space=True),
    Setting.FEW_SHOT: Visibility(source_data=True, unlabeled_target=True, target_labels="few",
                                 shared_label_space=True),
    Setting.SUPERVISED: Visibility(source_data=True, unlabeled_target=True, target_labels="all",
                                   shared_label_space=True),
    Setting.TASK: Visibility(source_data=True, unlabeled_target=True, target_labels="all",
                             shared_label_space=False),
    Setting.DG: Visibility(source_data=True, unlabeled_target=False, target_labels="none",
                           shared_label_space=True, multi_source=True),
    Setting.SOURCE_FREE: Visibility(source_data=False, unlabeled_target=True, target_labels="none",
                                    shared_label_space=True),
    Setting.TEST_TIME: Visibility(source_data=False, unlabeled_target=False, target_labels="none",
                                  shared_label_space=True, online=True),
}


def settings_for(shared_label_space: bool, multi_source: bool = False) -> tuple[Setting, ...]:
    """The settings that apply to a pair, in the table's order."""
    return tuple(setting for setting, sees in VISIBILITY.items()
                 if sees.shared_label_space == shared_label_space and (multi_source or not sees.multi_source))


def parse_setting(text: str) -> Setting:
    try:
        return Setting(text)
    except ValueError:
        choices = ", ".join(s.value for s in Setting)
        raise ValueError(f"unknown setting {text!r}; choose from {choices}") from None

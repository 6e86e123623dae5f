"""Which 科目二 item a stored deduction counts against, for slips and uploads."""

from __future__ import annotations

ITEM_TITLES = {"pile": "桩考", "hill": "坡道定点停车和起步", "bridge": "通过单边桥", "reverse_park": "倒车入库",
               "side_park": "侧方停车", "curve": "曲线行驶", "right_angle": "直角转弯", "general": "综合评判"}


def deduction_item(deduction) -> str:
    """The item id a deduction counts against.

    General rules (ids ``general.*`` in the rule table) belong to 综合评判 even
    when they happen inside an item, as the national record counts them.
    """
    if deduction.rule.split(".", 1)[0] == "general" or not deduction.item:
        return "general"
    return deduction.item

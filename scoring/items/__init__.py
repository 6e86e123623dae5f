"""Item judges: one module per 科目二 item (桩考, 坡道定点停车和起步, 通过单边桥)."""

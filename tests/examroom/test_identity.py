from examroom.identity import mask_id_number


def test_masks_all_but_region_and_last_four():
    assert mask_id_number("62010219900101123X") == "620***********123X"


def test_short_values_are_fully_masked():
    assert mask_id_number("12345") == "*****"
    assert mask_id_number("") == ""

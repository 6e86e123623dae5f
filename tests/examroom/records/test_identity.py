from examroom.records.people import mask_id_number


def test_masks_all_but_region_and_last_four():
    assert mask_id_number("62010219900101123X") == "620***********123X"


def test_short_values_are_fully_masked():
    assert mask_id_number("12345") == "*****"
    assert mask_id_number("") == ""


def test_check_character_matches_the_standard_example():
    # The worked example of GB 11643-1999 Annex: 11010519491231002X.
    from examroom.records.people import id_check_character

    assert id_check_character("11010519491231002") == "X"
    assert id_check_character("44052418800101001") == "4"

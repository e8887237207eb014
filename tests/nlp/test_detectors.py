"""Detectors find identifiers and hand-offs, and checksums keep random digit runs out."""
import datetime as dt

import pytest

from nlp.detectors import (detect, find_addresses, find_bank_cards, find_contacts, find_id_numbers, find_mobiles,
                           find_plates, id_check_digit, is_valid_cn_id, luhn_ok)

VALID_ID = "11010519491231002X"


def test_an_id_number_with_the_right_check_digit_is_valid():
    assert id_check_digit("11010519491231002") == "X"
    assert is_valid_cn_id(VALID_ID)
    assert is_valid_cn_id(VALID_ID.lower())


@pytest.mark.parametrize(
    "number, why",
    [
        ("110105194912310021", "wrong check digit"),
        ("990105194912310028", "no such region"),
        ("110105194913310021", "month 13"),
        ("110105290012310021", "born in the future"),
    ],
)
def test_implausible_id_numbers_are_rejected(number, why):
    assert not is_valid_cn_id(number, today=dt.date(2026, 1, 1)), why


def test_an_id_number_is_found_in_text_but_not_inside_a_longer_run():
    assert [d.text for d in find_id_numbers(f"身份证{VALID_ID}，")] == [VALID_ID]
    assert find_id_numbers(f"9{VALID_ID}") == []


def test_luhn():
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")


def test_a_bank_card_needs_luhn_and_a_known_prefix():
    assert [d.text for d in find_bank_cards("卡号6222021234567890128")] == ["6222021234567890128"]
    assert [d.text for d in find_bank_cards("卡号 6222 0212 3456 7890 128")] == ["6222 0212 3456 7890 128"]
    assert find_bank_cards("卡号6222021234567890127") == []  # Luhn fails
    assert find_bank_cards("订单9111111111111111") == []  # Luhn passes, no such prefix


def test_a_mobile_number_is_found_with_or_without_separators():
    assert [d.text for d in find_mobiles("电话13812345678")] == ["13812345678"]
    assert [d.text for d in find_mobiles("电话 138-1234-5678")] == ["138-1234-5678"]
    assert [d.text for d in find_mobiles("+86 13812345678")] == ["+86 13812345678"]


def test_a_mobile_number_inside_a_longer_digit_run_is_not_one():
    assert find_mobiles("订单号2013812345678") == []
    assert find_mobiles("订单号13812345678901") == []
    assert find_mobiles("12812345678") == []  # 12x is not a mobile prefix


def test_an_address_with_a_house_number_is_found_without_the_words_before_it():
    (d,) = find_addresses("他住在北京市朝阳区建国路88号3栋2单元301室，天天")
    assert d.text == "北京市朝阳区建国路88号3栋2单元301室"


def test_a_road_without_a_number_is_not_an_address():
    assert find_addresses("我们沿着建国路走了很久") == []


def test_plate_numbers():
    assert [d.text for d in find_plates("车主张三 京A12345 天天")] == ["京A12345"]
    assert find_plates("京A123") == []


def test_contact_hand_offs():
    text = "微信：abc_12345 QQ:12345678 飞机@bad_guy88 t.me/abcde 访问 www.xx123.top/reg"
    kinds = [(d.kind, d.text) for d in find_contacts(text)]
    assert ("wechat_id", "abc_12345") in kinds
    assert ("qq_number", "12345678") in kinds
    assert ("telegram", "@bad_guy88") in kinds
    assert ("telegram", "t.me/abcde") in kinds
    assert ("cheap_url", "www.xx123.top/reg") in kinds


def test_ordinary_links_and_mentions_are_not_hand_offs():
    assert find_contacts("见 https://www.example.com/a 和 @小明") == []


def test_an_id_number_is_not_also_reported_as_a_card_or_phone():
    kinds = [d.kind for d in detect(f"身份证{VALID_ID}")]
    assert kinds == ["cn_id_number"]


def test_detect_on_garbage_does_not_crash():
    assert detect("\x00\x01\ufffd" * 100) == []
    assert detect("") == []

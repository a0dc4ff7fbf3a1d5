import pytest

from jaxlite.util import safe_map, safe_zip, split_list, unzip2


def test_safe_zip_zips_equal_lengths():
    assert safe_zip([1, 2], "ab") == [(1, "a"), (2, "b")]


def test_safe_zip_and_map_raise_on_mismatch():
    with pytest.raises(ValueError, match="length 1"):
        safe_zip([1, 2], [3])
    with pytest.raises(ValueError):
        safe_map(lambda a, b: a + b, [1, 2], [3])


def test_unzip2_and_split_list():
    assert unzip2([(1, "a"), (2, "b")]) == ([1, 2], ["a", "b"])
    assert split_list([1, 2, 3, 4], [1, 3]) == [[1], [2, 3, 4]]
    with pytest.raises(ValueError):
        split_list([1, 2], [3])

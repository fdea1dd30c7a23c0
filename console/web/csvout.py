"""CSV downloads: streamed row by row, UTF-8 with a BOM (spreadsheets then read accents right),
and cells that a spreadsheet would run as a formula neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence

from starlette.responses import StreamingResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A customer named "=HYPERLINK(...)" must not become a live formula in the organizer's sheet.
    return "'" + text if text.startswith(FORMULA_START) else text


def line(values: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([cell(v) for v in values])
    return buffer.getvalue()


def download(
    filename: str, header: Sequence[str], rows: AsyncIterator[Iterable[Sequence[object]]]
) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        yield ("\ufeff" + line(header)).encode()
        async for batch in rows:
            yield "".join(line(r) for r in batch).encode()

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def once(rows: Iterable[Sequence[object]]) -> AsyncIterator[Iterable[Sequence[object]]]:
    """A report already in memory, as the one batch ``download`` expects."""
    yield rows

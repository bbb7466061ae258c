"""What of a message a notice template can read: its subject, its text, its HTML tables and its CSV/XLSX attachments.

Tables and attachments are read as rows keyed by their headers, compared without case or extra whitespace, so a
template names a column as the provider heads it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from email.message import Message
from itertools import islice

from bs4 import BeautifulSoup
from openpyxl import load_workbook

from nautobot_ssot_circuit_maintenance.mail.headers import decoded_header

Row = dict[str, str]
XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CSV_TYPES = {"text/csv", "application/csv"}
# An attachment's rows read at most: a notice lists circuits, not a database.
MAX_ROWS = 10_000


def header_key(text: str) -> str:
    """A column header as it is compared: lower case, whitespace runs as one space."""
    return " ".join(str(text or "").split()).lower()


def cell_text(value: object) -> str:
    """A cell as text, whitespace runs as one space."""
    return " ".join(str("" if value is None else value).split())


@dataclass
class Document:
    """A message as a template reads it."""

    subject: str = ""
    text: str = ""
    tables: list[list[Row]] = field(default_factory=list)
    attachments: list[list[Row]] = field(default_factory=list)
    # The CSV or XLSX attachments that could not be read, with why (named when a template finds nothing).
    unreadable: list[str] = field(default_factory=list)


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _rows(grid: list[list[str]]) -> list[Row]:
    """Rows keyed by the first row's headers; rows shorter or longer than the header are cut or padded."""
    grid = [row for row in grid if any(cell for cell in row)]
    if not grid:
        return []
    headers = [header_key(cell) for cell in grid[0]]
    return [
        {header: cell_text(row[index]) if index < len(row) else "" for index, header in enumerate(headers) if header}
        for row in grid[1 : MAX_ROWS + 1]
    ]


def html_tables(html: str) -> list[list[Row]]:
    """Every innermost HTML table, as rows keyed by the headers of its first row."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for table in soup.find_all("table"):
        if table.find("table"):
            continue  # a layout table around the real one
        grid = [[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])] for row in table.find_all("tr")]
        if rows := _rows(grid):
            found.append(rows)
    return found


def html_text(html: str) -> str:
    """The text an HTML part shows, a line per block."""
    return BeautifulSoup(html, "html.parser").get_text("\n")


def csv_rows(data: bytes) -> list[Row]:
    """A CSV attachment's rows (UTF-8, with or without BOM, else Latin-1; the delimiter sniffed)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return _rows(list(islice(csv.reader(io.StringIO(text), dialect), MAX_ROWS + 1)))


def xlsx_rows(data: bytes) -> list[Row]:
    """An XLSX attachment's rows: those of its first sheet."""
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        grid = [[cell_text(value) for value in row] for row in islice(sheet.iter_rows(values_only=True), MAX_ROWS + 1)]
    finally:
        workbook.close()
    return _rows(grid)


def _attachment_rows(part: Message) -> list[Row] | None:
    name = (part.get_filename() or "").lower()
    kind = part.get_content_type()
    data = part.get_payload(decode=True) or b""
    if kind in CSV_TYPES or name.endswith(".csv"):
        return csv_rows(data)
    if kind in XLSX_TYPES or name.endswith(".xlsx"):
        return xlsx_rows(data)
    return None


def read_document(message: Message) -> Document:
    """What a template can read of `message`: every text and HTML part, every CSV and XLSX attachment."""
    document = Document(subject=decoded_header(message, "Subject"))
    texts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        try:
            rows = _attachment_rows(part)
        except Exception as error:  # noqa: BLE001 - a broken attachment is skipped, never the whole notice
            document.unreadable.append(f"{part.get_filename() or part.get_content_type()}: {type(error).__name__}")
            continue
        if rows is not None:
            document.attachments.append(rows)
        elif part.get_content_type() == "text/html":
            html = _decoded(part)
            texts.append(html_text(html))
            document.tables.extend(html_tables(html))
        elif part.get_content_maintype() == "text":
            texts.append(_decoded(part))
    document.text = "\n".join(texts)
    return document

"""A report's table out: as text for a terminal, CSV, JSON and XLSX.

XLSX is written with openpyxl (the maintained library for reading and writing the format; the tests read
the file back with it): one sheet a report with a bold, filled header row frozen above the data, columns
sized to their contents, each column's number format by its kind (percent, hours, money, counts), and a
sheet of the definitions and periods. The CSV has the same cells, so the two compare equal.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable, TextIO

from oms.core.i18n import _
from oms.reports.tables import Table

_FORMATS = {"rate": "0.0%", "hours": "0.0", "money": "#,##0.00", "count": "#,##0", "number": "0.00"}


def cell(value: Any) -> Any:
    """The value as it goes into a file: floats rounded to six places, nothing as empty."""
    if value is None:
        return None
    if isinstance(value, float):
        return round(value, 6)
    return value


def shown(value: Any, kind: str) -> str:
    """The value as a person reads it."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value:.1%}"
    if kind == "hours":
        return f"{value:,.1f} h"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "number":
        return f"{value:,.2f}"
    if kind == "count":
        return f"{value:,}"
    return str(value)


def write_text(table: Table, out: TextIO) -> None:
    out.write(f"{table.title}: {table.period.start} – {table.period.end} "
              f"({_('previous period')} {table.previous_period.start} – {table.previous_period.end})\n")
    cells = [[c.title for c in table.columns]] + [[shown(v, c.kind) for v, c in zip(row, table.columns)] for row in table.rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(table.columns))]
    right = [c.kind != "text" for c in table.columns]
    for n, r in enumerate(cells):
        out.write("  ".join(v.rjust(w) if ra else v.ljust(w) for v, w, ra in zip(r, widths, right)).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
    if not table.rows:
        out.write(_("Nothing in this period.") + "\n")
    out.write("\n" + table.definition + "\n")


def write_csv(table: Table, out: TextIO) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow([c.title for c in table.columns])
    for row in table.rows:
        w.writerow(["" if v is None else cell(v) for v in row])


def csv_text(table: Table) -> str:
    buf = io.StringIO()
    write_csv(table, buf)
    return buf.getvalue()


def as_json(table: Table) -> dict:
    keys = [c.title for c in table.columns]
    return {
        "report": table.report, "title": table.title, "definition": table.definition,
        "period": {"from": table.period.start.isoformat(), "to": table.period.end.isoformat()},
        "previous_period": {"from": table.previous_period.start.isoformat(), "to": table.previous_period.end.isoformat()},
        "columns": [{"title": c.title, "kind": c.kind} for c in table.columns],
        "rows": [dict(zip(keys, map(cell, row)), orders=list(ids)) for row, ids in zip(table.rows, table.orders)],
    }


def write_xlsx(tables: Iterable[Table], path: str | Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    tables = list(tables)
    wb = Workbook()
    wb.remove(wb.active)
    bold, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="305496")
    for t in tables:
        ws = wb.create_sheet(t.title[:31])
        ws.append([c.title for c in t.columns])
        for c in ws[1]:
            c.font, c.fill = bold, fill
            c.alignment = Alignment(wrap_text=True, vertical="top")
        for row in t.rows:
            ws.append([cell(v) for v in row])
        for i, col in enumerate(t.columns, start=1):
            letter = get_column_letter(i)
            fmt = _FORMATS.get(col.kind)
            if fmt:
                for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    c.number_format = fmt
            longest = max([len(col.title)] + [len(shown(r[i - 1], col.kind)) for r in t.rows])
            ws.column_dimensions[letter].width = min(60, max(10, longest + 2))
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions
    about = wb.create_sheet(_("Definitions"))
    about.append([_("Report"), _("Period"), _("Previous period"), _("Definition")])
    for c in about[1]:
        c.font, c.fill = bold, fill
    for t in tables:
        about.append([t.title, f"{t.period.start} – {t.period.end}", f"{t.previous_period.start} – {t.previous_period.end}",
                      t.definition])
    for letter, width in zip("ABCD", (32, 26, 26, 120)):
        about.column_dimensions[letter].width = width
    for row in about.iter_rows(min_row=2):
        row[3].alignment = Alignment(wrap_text=True, vertical="top")
    about.freeze_panes = "A2"
    tmp = Path(f"{path}.part")
    wb.save(tmp)
    tmp.replace(path)


def write_pdf(tables: Iterable[Table], path: str | Path) -> None:
    """A printable report (reportlab's platypus): each table with its period, its definition and its rows."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table as PdfTable, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    story: list = []
    for t in tables:
        story.append(Paragraph(t.title, styles["Heading2"]))
        story.append(Paragraph(f"{t.period.start} – {t.period.end} · {_('previous period')} "
                               f"{t.previous_period.start} – {t.previous_period.end}", small))
        story.append(Spacer(1, 2 * mm))
        data = [[Paragraph(f"<b>{c.title}</b>", small) for c in t.columns]]
        data += [[shown(v, c.kind) for v, c in zip(row, t.columns)] for row in t.rows] or [[_("Nothing in this period.")]]
        grid = PdfTable(data, repeatRows=1, hAlign="LEFT")
        grid.setStyle(TableStyle([
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DCE3F0")),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F4F6FA")]),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story += [grid, Spacer(1, 2 * mm), Paragraph(t.definition, small), Spacer(1, 6 * mm)]
    tmp = Path(f"{path}.part")
    SimpleDocTemplate(str(tmp), pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                      bottomMargin=12 * mm, title=_("Quayside reports")).build(story)
    tmp.replace(path)

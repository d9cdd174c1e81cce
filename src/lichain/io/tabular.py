"""The tabular format for people: a chain recorded in one XLSX workbook, or a folder of CSV files.

Most sites keep production records in spreadsheets; this format lets them record sites, materials, source lots,
runs and shipments there, with explicit units, and get every mistake back at once with its cell. The pieces:
:mod:`~lichain.io.tabular_schema` (sheets and columns), :mod:`~lichain.io.tabular_read` (workbook → events),
:mod:`~lichain.io.tabular_write` (template and export). ``docs/tabular.md`` describes the format.
"""

from __future__ import annotations

from lichain.io.tabular_read import read_workbook
from lichain.io.tabular_schema import SHEETS, Column, Sheet
from lichain.io.tabular_write import write_template, write_workbook

__all__ = ["SHEETS", "Column", "Sheet", "read_workbook", "write_template", "write_workbook"]

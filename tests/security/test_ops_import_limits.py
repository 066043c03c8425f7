"""Issue 12, M3: imports stream with bounded memory whatever the sheet's shape.

Each hostile file is about 20 MB and is imported by the real command (`aftersales import customers
FILE`) in its own process; it must be refused with a Chinese message saying why, within seconds
(the subprocess timeout), and the process's peak resident memory (its own rusage, from wait4) must
stay under 200 MB. The old reader padded every row to the sheet's width and kept every row: the
sparse file needed tens of GB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "aftersales.cli"]
REFUSED = 2
RSS_LIMIT_KB = 200 * 1024

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Default Extension="png" ContentType="image/png"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="客户" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
</Relationships>"""
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>电话</t></is></c></row>')
SHEET_TAIL = "</sheetData></worksheet>"


def _workbook(path: Path, rows, *, padding_mb: int = 20) -> Path:
    """An .xlsx written part by part (as any exporter could), streamed so the test stays small; a
    stored picture of random bytes brings the file to about ``padding_mb`` MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD.encode())
            for chunk in rows:
                sheet.write(chunk.encode())
            sheet.write(SHEET_TAIL.encode())
        if padding_mb:
            z.writestr(zipfile.ZipInfo("xl/media/image1.png"), os.urandom(padding_mb * 1024 * 1024),
                       compress_type=zipfile.ZIP_STORED)
    return path


def _sparse_rows(n: int):
    """One cell per row, in column XFD (the last of 16,384)."""
    batch = []
    for r in range(2, n + 2):
        batch.append(f'<row r="{r}"><c r="XFD{r}"><v>{r}</v></c></row>')
        if len(batch) == 10_000:
            yield "".join(batch)
            batch = []
    yield "".join(batch)


def _bomb_rows(megabytes: int):
    """Blank padding XML: ``megabytes`` MB that deflate squeezes to almost nothing."""
    blank = " " * (1024 * 1024)
    for _ in range(megabytes):
        yield blank


def _valid_rows(n: int):
    batch = []
    for r in range(2, n + 2):
        batch.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>农户{r}</t></is></c>'
                     f'<c r="B{r}"><v>1380000{r:04d}</v></c></row>')
        if len(batch) == 10_000:
            yield "".join(batch)
            batch = []
    yield "".join(batch)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("import-limits")
    env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
           "AFTERSALES_LOG_LEVEL": "WARNING", "LANG": "C.UTF-8"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([*CLI, "migrate", "--verbosity", "0"], env=env, check=True, timeout=120)
    return env


# The command in a fresh interpreter that writes its own peak resident memory (VmHWM of its own
# address space, read at exit) to a file. Not the rusage of the child: on Linux a child's ru_maxrss
# also counts the address space it was forked from (this test process) before exec.
PEAK = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:")).split()[1]
    with open(out, "w") as f:
        f.write(hwm)
atexit.register(peak)
sys.argv[0] = "aftersales"
runpy.run_module("aftersales.cli", run_name="__main__")
"""


def _import(env, path: Path, *, timeout: float = 30, **extra_env) -> tuple[int, str, int]:
    """Run the import in its own process: (exit code, output, its peak RSS in kB)."""
    peak_path = path.with_suffix(".peak")
    proc = subprocess.run([sys.executable, "-c", PEAK, str(peak_path), "import", "customers", str(path),
                           "--no-progress"], env={**env, **extra_env}, capture_output=True,
                          timeout=timeout)  # a hostile file is refused within seconds, not minutes
    return proc.returncode, (proc.stdout + proc.stderr).decode(), int(peak_path.read_text())


def test_sparse_cells_in_column_xfd_are_refused_in_bounded_memory(env, tmp_path):
    path = _workbook(tmp_path / "sparse.xlsx", _sparse_rows(400_000))
    assert path.stat().st_size > 20 * 1024 * 1024
    code, out, rss_kb = _import(env, path)
    assert code == REFUSED, out
    assert "XFD2" in out and "列" in out, out  # which cell, and why, in Chinese
    assert rss_kb < RSS_LIMIT_KB, f"peak RSS {rss_kb // 1024} MB"


def test_a_zip_bomb_is_refused_before_it_is_inflated(env, tmp_path):
    path = _workbook(tmp_path / "bomb.xlsx", _bomb_rows(400))  # 400 MB of XML in a few hundred kB
    code, out, rss_kb = _import(env, path)
    assert code == REFUSED, out
    assert "解压" in out or "MB" in out, out
    assert "420 MB" in out, out  # 400 MB of XML and the 20 MB picture
    assert rss_kb < RSS_LIMIT_KB, f"peak RSS {rss_kb // 1024} MB"


def test_too_many_rows_are_refused_and_nothing_is_saved(env, tmp_path):
    path = _workbook(tmp_path / "rows.xlsx", _valid_rows(3_000), padding_mb=0)
    code, out, rss_kb = _import(env, path, AFTERSALES_IMPORT_MAX_ROWS="2000")
    assert code == REFUSED, out
    assert "2000" in out and "行" in out, out
    count = subprocess.run([*CLI, "shell", "-c", "from aftersales.registry.models import Customer; "
                            "print(Customer.objects.count())"], env=env, capture_output=True, text=True, check=True)
    assert count.stdout.strip().splitlines()[-1] == "0"


def test_a_csv_with_a_20_mb_line_is_refused_in_bounded_memory(env, tmp_path):
    path = tmp_path / "line.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("姓名,电话\n张三,13800138000")
        f.write("," * (20 * 1024 * 1024))
        f.write("\n")
    code, out, rss_kb = _import(env, path)
    assert code == REFUSED, out
    assert rss_kb < RSS_LIMIT_KB, f"peak RSS {rss_kb // 1024} MB"


def test_a_csv_cell_beyond_the_column_limit_is_refused(env, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("姓名,电话\n张三,13800138000" + "," * 16382 + "x\n", encoding="utf-8")
    code, out, _rss = _import(env, path)
    assert code == REFUSED, out
    assert "XFD2" in out, out


def test_a_normal_file_still_imports(env, tmp_path):
    path = _workbook(tmp_path / "ok.xlsx", _valid_rows(50), padding_mb=0)
    code, out, _rss = _import(env, path, timeout=180)  # 50 rows through the services
    assert code == 0, out

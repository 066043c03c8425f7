"""Importing the customer and machine archives from the spreadsheets service managers keep."""

import csv
import re
import zipfile
from datetime import date, datetime, timedelta
from io import StringIO

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from aftersales.accounts.models import OrganizationKind
from aftersales.registry.importers import ImportRefused, import_file
from aftersales.registry.models import Customer, CustomerClass, CustomerPhone, Machine
from tests.support import make_customer, make_model, make_org

pytestmark = pytest.mark.django_db

CUSTOMER_HEADER = ["姓名", "电话", "客户类别", "省", "市", "县/区", "乡镇", "村", "详细地址", "备注"]
MACHINE_HEADER = ["出厂编号", "型号", "发动机号", "机主电话", "开票日期", "交付日期", "经销商编码", "备注"]


@pytest.fixture(autouse=True)
def english():
    # Some tests read the messages; they must not change when the Chinese translation arrives.
    with translation.override("en"):
        yield


def write_xlsx(path, header, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path, header, rows, encoding="utf-8-sig"):
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def customer_row(name, phones, customer_class="农户"):
    return [name, phones, customer_class, "河南省", "周口市", "商水县", "练集镇", "王庄村", "村东头", ""]


def errors_by_row(result):
    return {row: fields for row, fields in result.errors}


def test_customers_from_xlsx_with_chinese_headers_and_several_phones_per_cell(tmp_path):
    path = write_xlsx(tmp_path / "客户.xlsx", CUSTOMER_HEADER, [
        customer_row("王建国", "138 1234 5678；0371-6688 1234、13900001111", "大客户"),
        customer_row("李秀英", 13700002222),  # a number typed into Excel is a numeric cell
        customer_row("张伟", "13600003333/13600004444, 13600005555;13600006666", "dealer"),
        customer_row("赵六", "13500007777", ""),
    ])

    result = import_file("customers", path)

    assert (result.total, result.created, result.errors) == (4, 4, [])
    wang = Customer.objects.get(name="王建国")
    assert list(wang.phones.values_list("number", "is_primary")) == [
        ("+8613812345678", True), ("+8637166881234", False), ("+8613900001111", False)]
    assert (wang.customer_class, wang.province, wang.city, wang.county, wang.township, wang.village, wang.address) == (
        CustomerClass.KEY_ACCOUNT, "河南省", "周口市", "商水县", "练集镇", "王庄村", "村东头")
    assert list(Customer.objects.get(name="李秀英").phones.values_list("number", flat=True)) == ["+8613700002222"]
    assert Customer.objects.get(name="张伟").phones.count() == 4
    assert dict(Customer.objects.values_list("name", "customer_class")) == {
        "王建国": "key_account", "李秀英": "farmer", "张伟": "dealer", "赵六": "farmer"}


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig"])
def test_customers_from_csv_as_chinese_excel_or_other_tools_write_it(tmp_path, encoding):
    # English and Chinese headers may be mixed, in any order.
    path = write_csv(tmp_path / "customers.csv", ["电话", "Name", "customer_class", "县/区", "notes"], [
        ["13812345678，13900001111", "王建国", "其他", "商水县", "老客户，买过两台"],
    ], encoding=encoding)

    result = import_file("customers", path)

    assert (result.created, result.errors) == (1, [])
    customer = Customer.objects.get()
    assert (customer.name, customer.customer_class, customer.county, customer.notes) == (
        "王建国", "other", "商水县", "老客户，买过两台")
    assert customer.phones.count() == 2


def test_machines_find_their_owner_by_any_spelling_of_a_phone_and_their_dealer_by_code(tmp_path):
    make_model("LX904")
    owner = make_customer("王建国", "13812345678")
    dealer = make_org("DL-HA", "周口丰收农机经销部", OrganizationKind.DEALER, "河南省", "周口市")
    path = write_xlsx(tmp_path / "machines.xlsx", MACHINE_HEADER, [
        ["lx904-0001", "LX904", "e-123", "+86 138-1234-5678", datetime(2026, 3, 1), "2026/3/5", "DL-HA", "展会样机"],
        ["LX904-0002", "LX904", "", "", "2026年3月1日", "", "", ""],
    ])

    result = import_file("machines", path, registered_by=dealer)

    assert (result.total, result.created, result.errors) == (2, 2, [])
    sold = Machine.objects.get(serial_number="LX904-0001")
    assert (sold.owner, sold.selling_dealer, sold.registered_by) == (owner, dealer, dealer)
    assert (sold.engine_number, sold.invoice_date, sold.delivery_date, sold.notes) == (
        "E-123", date(2026, 3, 1), date(2026, 3, 5), "展会样机")
    in_stock = Machine.objects.get(serial_number="LX904-0002")
    assert (in_stock.owner, in_stock.selling_dealer, in_stock.invoice_date) == (None, None, date(2026, 3, 1))


def test_every_accepted_date_spelling_gives_the_same_day_and_others_are_row_errors(tmp_path):
    make_model("LX904")
    spellings = [datetime(2026, 3, 1), "2026-03-01", "2026/3/1", "2026年3月1日", "2026/3/1 0:00", "2026.03.01"]
    wrong = ["2026-02-30", "3/1/2026", "下周"]
    path = write_xlsx(tmp_path / "machines.xlsx", MACHINE_HEADER, [
        [f"D-{i}", "LX904", "", "", value, "", "", ""] for i, value in enumerate(spellings + wrong)])

    result = import_file("machines", path)

    assert set(Machine.objects.values_list("invoice_date", flat=True)) == {date(2026, 3, 1)}
    assert result.created == len(spellings)
    assert {row: set(fields) for row, fields in result.errors} == {
        row: {"invoice_date"} for row in range(len(spellings) + 2, len(spellings) + len(wrong) + 2)}


def test_bad_customer_rows_are_reported_by_row_and_field_and_the_good_rows_saved(tmp_path):
    make_customer("老客户", "13900001111")
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [
        customer_row("王建国", "13812345678"),               # row 2
        customer_row("坏号码", "12345"),                     # row 3
        customer_row("未知类别", "13700002222", "VIP"),      # row 4
        customer_row("号码已登记", "139 0000 1111"),          # row 5
        customer_row("重复行", "13600000000;138-1234-5678"),  # row 6: second number as in row 2
        [None] * len(CUSTOMER_HEADER),                      # row 7: blank, skipped
        customer_row("", "13500005555"),                    # row 8
        customer_row("李秀英", "13400004444"),               # row 9
    ])

    result = import_file("customers", path)

    errors = errors_by_row(result)
    assert {row: set(fields) for row, fields in errors.items()} == {
        3: {"phones[0]"}, 4: {"customer_class"}, 5: {"phones[0]"}, 6: {"phones[1]"}, 8: {"name"}}
    assert "#" in errors[5]["phones[0]"]  # names the customer who has the number
    assert "row 2" in errors[6]["phones[1]"]  # names the row it repeats
    assert (result.total, result.created, result.failed) == (7, 2, 5)
    assert set(Customer.objects.values_list("name", flat=True)) == {"老客户", "王建国", "李秀英"}
    # the bad rows left nothing behind, not even the valid first number of row 6
    assert not CustomerPhone.objects.filter(number="+8613600000000").exists()


def test_bad_machine_rows_are_reported_by_row_and_field_and_the_good_rows_saved(tmp_path):
    make_model("LX904")
    make_customer("王建国", "13812345678")
    make_org("SC", "服务中心", OrganizationKind.SERVICE_CENTER)
    future = (date.today() + timedelta(days=3)).isoformat()
    path = write_csv(tmp_path / "machines.csv", MACHINE_HEADER, [
        ["LX904-0001", "LX904", "", "13812345678", "2026-03-01", "", "", ""],   # row 2
        ["LX904-0002", "NOPE", "", "", "", "", "", ""],                         # row 3: unknown model
        ["LX904-0003", "LX904", "", "", future, "", "", ""],                    # row 4: future invoice
        ["lx904-0001 ", "LX904", "", "", "", "", "", ""],                       # row 5: serial as row 2
        ["LX904-0005", "LX904", "", "13000000000", "", "", "", ""],             # row 6: nobody's phone
        ["LX904-0006", "LX904", "", "", "", "", "NO-SUCH", ""],                 # row 7: unknown dealer
        ["LX904-0007", "LX904", "", "", "", "", "SC", ""],                      # row 8: does not sell
        ["LX904-0008", "", "", "", "", "", "", ""],                             # row 9: no model
        ["LX904-0009", "LX904", "", "", "", "", "", ""],                        # row 10
    ], encoding="gbk")

    result = import_file("machines", path)

    assert {row: set(fields) for row, fields in result.errors} == {
        3: {"model_code"}, 4: {"invoice_date"}, 5: {"serial_number"}, 6: {"owner_phone"},
        7: {"dealer_code"}, 8: {"dealer_code"}, 9: {"model_code"}}
    assert result.created == 2
    assert set(Machine.objects.values_list("serial_number", flat=True)) == {"LX904-0001", "LX904-0009"}


def test_a_row_reports_every_field_error_at_once(tmp_path):
    make_model("LX904")
    path = write_xlsx(tmp_path / "machines.xlsx", MACHINE_HEADER, [
        ["X-1", "LX904", "", "", "", "", "", ""],
        ["X-1", "NOPE", "", "12345", "not a date", "", "", ""],
    ])

    result = import_file("machines", path)

    assert set(errors_by_row(result)[3]) == {"serial_number", "model_code", "owner_phone", "invoice_date"}


def test_atomic_import_with_one_bad_row_saves_nothing(tmp_path):
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [
        customer_row("王建国", "13812345678"),
        customer_row("李秀英", "13700002222"),
        customer_row("坏号码", "12345"),
        customer_row("赵六", "13500007777"),
    ])

    result = import_file("customers", path, atomic=True)

    assert (result.total, result.valid, result.created) == (4, 3, 0)
    assert [row for row, _ in result.errors] == [4]
    assert not Customer.objects.exists() and not CustomerPhone.objects.exists()


def test_atomic_import_of_a_good_file_saves_every_row(tmp_path):
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [
        customer_row("王建国", "13812345678"), customer_row("李秀英", "13700002222")])

    result = import_file("customers", path, atomic=True)

    assert (result.created, Customer.objects.count()) == (2, 2)


def test_dry_run_reports_what_a_real_import_would_and_saves_nothing(tmp_path):
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [
        customer_row("王建国", "13812345678"),
        customer_row("重复行", "13812345678"),
        customer_row("李秀英", "13700002222"),
    ])

    checked = import_file("customers", path, dry_run=True)

    assert (checked.total, checked.valid, checked.created) == (3, 2, 0)
    assert not Customer.objects.exists() and not CustomerPhone.objects.exists()
    imported = import_file("customers", path)
    assert imported.errors == checked.errors
    assert imported.created == Customer.objects.count() == 2


@pytest.mark.parametrize("header, named", [
    (["姓名", "省", "市"], ["电话 (phones)"]),
    (["姓名", "电话", "微信"], ["微信"]),
    (["姓名", "手机号码", "Wechat"], ["电话 (phones)", "手机号码", "Wechat"]),
    (["姓名", "电话", "phones"], ["phones"]),
])
def test_wrong_columns_refuse_the_whole_file(tmp_path, header, named):
    rows = [["王建国", "13812345678", "x"][: len(header)] for _ in range(3)]
    path = write_xlsx(tmp_path / "customers.xlsx", header, rows)

    with pytest.raises(ImportRefused) as refused:
        import_file("customers", path)

    for name in named:
        assert name in refused.value.message
    assert not Customer.objects.exists()


def test_a_repeated_phone_is_an_error_even_when_its_first_row_was_invalid(tmp_path):
    # Two rows claim one number: a person must decide which is right, so neither is guessed.
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [
        customer_row("", "13812345678"), customer_row("王建国", "138 1234 5678")])

    result = import_file("customers", path)

    assert errors_by_row(result)[3] == {"phones[0]": "The same as row 2."}
    assert not Customer.objects.exists()


def test_a_workbook_that_understates_its_size_still_imports_every_column(tmp_path):
    # Some exporters write <dimension ref="A1"/>; read-only openpyxl would trust it and see one cell.
    written = write_xlsx(tmp_path / "written.xlsx", CUSTOMER_HEADER, [customer_row("王建国", "13812345678")])
    path = tmp_path / "customers.xlsx"
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data, count = re.subn(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1"/>', data)
                assert count == 1
            target.writestr(item, data)

    result = import_file("customers", path)

    assert (result.created, result.errors) == (1, [])
    assert Customer.objects.get().village == "王庄村"


def test_data_under_a_column_without_header_refuses_the_file(tmp_path):
    path = write_xlsx(tmp_path / "customers.xlsx", ["姓名", "电话"], [
        ["王建国", "13812345678"], ["李秀英", "13700002222", "13900001111"]])

    with pytest.raises(ImportRefused, match="C3"):
        import_file("customers", path)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("name, content", [
    ("customers.xls", b"\xd0\xcf\x11\xe0 old binary excel"),
    ("customers.xlsx", b"not a zip file"),
    ("customers.csv", b""),
    ("customers.csv", b"\xff\xfe\x00\xd8broken"),
])
def test_unreadable_or_wrong_kind_of_file_is_refused(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportRefused):
        import_file("customers", path)


def test_the_machine_file_needs_the_machine_columns(tmp_path):
    path = write_xlsx(tmp_path / "machines.xlsx", CUSTOMER_HEADER, [customer_row("王建国", "13812345678")])
    with pytest.raises(ImportRefused) as refused:
        import_file("machines", path)
    assert "出厂编号 (serial_number)" in refused.value.message and "型号 (model_code)" in refused.value.message
    assert not Customer.objects.exists()


def test_a_large_file_imports_completely(tmp_path):
    rows = [customer_row(f"客户{i}", f"138{i:08d}") for i in range(2000)]
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, rows)

    result = import_file("customers", path)

    assert (result.total, result.created, result.errors) == (2000, 2000, [])
    assert Customer.objects.count() == CustomerPhone.objects.count() == 2000
    assert CustomerPhone.objects.filter(number="+8613800001999", customer__name="客户1999").exists()


# --- The command ------------------------------------------------------------------------------


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_archive", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_exits_0_when_every_row_was_saved(tmp_path):
    make_org("AG-SD", "潍坊金丰农机维修站", OrganizationKind.AUTHORIZED_AGENCY)
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [
        customer_row("王建国", "13812345678"), customer_row("李秀英", "13700002222")])

    out, err = run("customers", str(path), "--registered-by", "AG-SD")

    assert "saved: 2" in out and "failed: 0" in out
    assert err == ""
    assert set(Customer.objects.values_list("registered_by__code", flat=True)) == {"AG-SD"}


def test_command_exits_1_when_a_row_failed_and_writes_the_errors_csv(tmp_path):
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [
        customer_row("王建国", "13812345678"), customer_row("坏号码", "12345"), customer_row("", "13700002222")])
    errors_csv = tmp_path / "errors.csv"

    with pytest.raises(CommandError) as failed:
        run("customers", str(path), "--errors-csv", str(errors_csv))

    assert failed.value.returncode == 1
    with open(errors_csv, newline="", encoding="utf-8-sig") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["row", "field", "message"]
    assert [line[:2] for line in lines[1:]] == [["3", "phones[0]"], ["4", "name"]]
    assert all(line[2] for line in lines[1:])
    assert list(Customer.objects.values_list("name", flat=True)) == ["王建国"]


def test_command_prints_the_row_errors_when_no_errors_csv_is_given(tmp_path):
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [customer_row("坏号码", "12345")])
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_archive", "customers", str(path), "--no-progress", stdout=StringIO(), stderr=err)

    assert "Row 2, phones[0]:" in err.getvalue()


def test_command_with_atomic_or_dry_run_exits_1_for_a_bad_row_and_saves_nothing(tmp_path):
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [
        customer_row("王建国", "13812345678"), customer_row("坏号码", "12345")])

    for option in ("--atomic", "--dry-run"):
        with pytest.raises(CommandError) as failed:
            run("customers", str(path), option)
        assert failed.value.returncode == 1
    assert not Customer.objects.exists()


def test_command_dry_run_of_a_good_file_exits_0_and_saves_nothing(tmp_path):
    path = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [customer_row("王建国", "13812345678")])

    out, _ = run("customers", str(path), "--dry-run")

    assert "valid: 1" in out
    assert not Customer.objects.exists()


@pytest.mark.parametrize("problem", ["columns", "extension", "missing file", "organization", "errors csv"])
def test_command_exits_2_for_a_refused_file_or_option_and_saves_nothing(tmp_path, problem):
    good = write_xlsx(tmp_path / "customers.xlsx", CUSTOMER_HEADER, [customer_row("王建国", "13812345678")])
    args = {
        "columns": [str(write_xlsx(tmp_path / "bad.xlsx", ["姓名", "微信"], [["王建国", "x"]]))],
        "extension": [str(good.rename(tmp_path / "customers.xls"))],
        "missing file": [str(tmp_path / "nowhere.xlsx")],
        "organization": [str(good), "--registered-by", "NO-SUCH"],
        "errors csv": [str(good), "--errors-csv", str(tmp_path / "no-such-dir" / "errors.csv")],
    }[problem]

    with pytest.raises(CommandError) as refused:
        run("customers", *args)

    assert refused.value.returncode == 2
    assert not Customer.objects.exists()

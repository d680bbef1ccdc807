"""The regression report: the page, the PDF, the CSV and `manage.py regression_report`
show the same numbers, and those numbers are statsmodels' on the same sessions."""

import csv
import io
import json
import re

import numpy as np
import pytest
import statsmodels.api as sm
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from tests.analytics.study import english, study

pytestmark = pytest.mark.django_db

SESSIONS = [(38, 31), (44, 28), (41, 29), (49, 24), (55, 21), (52, 22), (58, 18)]
BASELINE = [33, 34, 32]
FOLLOW_UP = [17, 15, 16]


def ols(pairs):
    x = np.array([a for a, _y in pairs], dtype=float)
    y = np.array([b for _x, b in pairs], dtype=float)
    return sm.OLS(y, sm.add_constant(x)).fit(), x, y


def run_command(*args) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("regression_report", *args, "--language", "en", stdout=out)
    return out.getvalue()


@pytest.fixture
def studied(student):
    study(student, baseline=BASELINE, sessions=SESSIONS, follow_up=FOLLOW_UP)
    return student


def three(value: float) -> str:
    return f"{value:.3f}"


def spss(value: float) -> str:
    """How SPSS prints a value: three decimals, no leading zero between −1 and 1."""
    text = three(value)
    return text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text


def expected_cells(pairs) -> list[str]:
    """statsmodels' figures, formatted by hand the way SPSS prints them."""
    fit, x, y = ols(pairs)
    beta = fit.params[1] * x.std(ddof=1) / y.std(ddof=1)
    return [
        spss(np.sqrt(fit.rsquared)), spss(fit.rsquared), spss(fit.rsquared_adj),
        spss(np.sqrt(fit.mse_resid)), spss(fit.ess), spss(fit.ssr), spss(fit.centered_tss),
        spss(fit.mse_model), spss(fit.mse_resid), spss(fit.fvalue),
        spss(fit.params[0]), spss(fit.bse[0]), spss(fit.tvalues[0]),
        spss(fit.params[1]), spss(fit.bse[1]), spss(fit.tvalues[1]), spss(beta),
    ]  # fmt: skip


def test_the_json_report_matches_statsmodels(studied):
    report = json.loads(run_command(studied.username, "--format", "json"))
    fit, x, y = ols(SESSIONS)
    regression = report["regression"]
    expected = {
        "n": len(SESSIONS), "r": np.sqrt(fit.rsquared), "r_squared": fit.rsquared,
        "adj_r_squared": fit.rsquared_adj, "std_error_estimate": np.sqrt(fit.mse_resid),
        "ss_regression": fit.ess, "ss_residual": fit.ssr, "ss_total": fit.centered_tss,
        "df_regression": fit.df_model, "df_residual": fit.df_resid,
        "ms_regression": fit.mse_model, "ms_residual": fit.mse_resid, "f": fit.fvalue,
        "f_p": fit.f_pvalue, "intercept": fit.params[0], "intercept_se": fit.bse[0],
        "intercept_t": fit.tvalues[0], "intercept_p": fit.pvalues[0], "slope": fit.params[1],
        "slope_se": fit.bse[1], "slope_t": fit.tvalues[1], "slope_p": fit.pvalues[1],
        "beta": fit.params[1] * x.std(ddof=1) / y.std(ddof=1),
    }  # fmt: skip
    assert set(regression) == set(expected)
    for name, value in expected.items():
        assert regression[name] == pytest.approx(value, rel=1e-9), name
    assert [(row["alliance"], row["anxiety"]) for row in report["data"]] == SESSIONS
    assert report["client"] == studied.display_name
    assert [row["comparison"] for row in report["overlap"]] == [
        "baseline-treatment", "treatment-follow_up", "baseline-follow_up",
    ]  # fmt: skip
    # Baseline 33, 34, 32 against follow-up 17, 15, 16: every follow-up score is lower
    # than every baseline score, so PND = PEM = NAP = 1 (by hand).
    last = report["overlap"][2]
    assert (last["pnd"], last["pem"], last["nap"]) == (1.0, 1.0, 1.0)


def page_cells(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", cell).strip()
        for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, flags=re.S)
    ]


def test_page_pdf_and_csv_show_the_same_numbers(client, counselor, studied, tmp_path):
    client.force_login(counselor)
    english(client)
    with translation.override("en"):
        page = client.get(reverse("analytics:report", args=[studied.pk]), HTTP_ACCEPT_LANGUAGE="en")
    pdf = client.get(reverse("analytics:report-pdf", args=[studied.pk]))
    data = client.get(reverse("analytics:report-csv", args=[studied.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    cells = page_cells(page.content.decode())
    for cell in expected_cells(SESSIONS):
        assert cell in cells, cell
        assert cell in pdf_text, cell
    rows = list(csv.DictReader(io.StringIO(data.content.decode("utf-8-sig"))))
    treatment = [row for row in rows if row["phase"] == "treatment"]
    assert [(int(r["alliance"]), int(r["anxiety"])) for r in treatment] == SESSIONS
    assert [int(r["anxiety"]) for r in rows if r["phase"] == "baseline"] == BASELINE
    assert [int(r["anxiety"]) for r in rows if r["phase"] == "follow_up"] == FOLLOW_UP
    # The researcher's path: the downloaded CSV gives the same report without the database.
    path = tmp_path / "export.csv"
    path.write_bytes(data.content)
    from_file = json.loads(run_command("--csv", str(path), "--format", "json"))
    from_database = json.loads(run_command(studied.username, "--format", "json"))
    assert from_file["regression"] == from_database["regression"]


def test_p_below_a_thousandth_is_printed_as_less_than_001(client, counselor, student):
    # Anxiety = 70 − alliance ± 1: a near-perfect fit, p far below .001 (statsmodels).
    pairs = [(30 + 3 * i, 40 - 3 * i + (1 if i % 2 else -1)) for i in range(8)]
    assert ols(pairs)[0].f_pvalue < 0.001
    study(student, sessions=pairs)
    client.force_login(counselor)
    english(client)
    with translation.override("en"):
        html = client.get(reverse("analytics:report", args=[student.pk])).content.decode()
    assert "&lt; .001" in html
    assert ".000" not in page_cells(html)


def test_the_reading_says_how_much_of_anxiety_alliance_accounts_for(client, counselor, studied):
    fit, _x, _y = ols(SESSIONS)
    client.force_login(counselor)
    english(client)
    with translation.override("en"):
        html = client.get(reverse("analytics:report", args=[studied.pk])).content.decode()
    assert f"Alliance accounts for {100 * fit.rsquared:.1f} % of the variation in anxiety" in html
    assert "significant at the .05 level" in html
    assert "Only 7 sessions" in html  # fewer than 10: read as description


def test_alliance_at_the_ceiling_is_warned_about(client, counselor, student):
    study(student, sessions=[(60, 20), (60, 18), (60, 19), (52, 24), (60, 17)])
    client.force_login(counselor)
    english(client)
    with translation.override("en"):
        html = client.get(reverse("analytics:report", args=[student.pk])).content.decode()
    assert "4 of 5 alliance scores are at the maximum (60)" in html


def test_constant_alliance_gives_no_regression_but_a_reason(client, counselor, student):
    study(student, sessions=[(60, 20), (60, 18), (60, 19)])
    client.force_login(counselor)
    english(client)
    with translation.override("en"):
        response = client.get(reverse("analytics:report", args=[student.pk]))
        pdf = client.get(reverse("analytics:report-pdf", args=[student.pk]))
    html = response.content.decode()
    assert "Alliance was 60 in every session" in html
    assert 'id="table-model-summary"' not in html
    assert pdf.content.startswith(b"%PDF")


def test_a_client_without_data_gets_an_explanation_not_an_error(client, counselor, student):
    client.force_login(counselor)
    english(client)
    with translation.override("en"):
        html = client.get(reverse("analytics:report", args=[student.pk])).content.decode()
        csv_response = client.get(reverse("analytics:report-csv", args=[student.pk]))
    assert "at least 3 treatment sessions" in html
    assert csv_response.status_code == 200
    assert csv_response.content.decode("utf-8-sig").startswith("date,phase,session")


def test_the_report_is_indonesian_by_default(client, counselor, studied):
    client.force_login(counselor)
    html = client.get(reverse("analytics:report", args=[studied.pk])).content.decode()
    assert "Laporan regresi" in html
    assert "Ringkasan Model" in html


# --- The command on a researcher's file ------------------------------------------------


def test_the_command_reads_a_researchers_csv_without_the_database(tmp_path):
    path = tmp_path / "study.csv"
    path.write_text("alliance;anxiety\n" + "".join(f"{x};{y}\n" for x, y in SESSIONS))
    report = json.loads(run_command("--csv", str(path), "--format", "json"))
    fit, _x, _y = ols(SESSIONS)
    assert report["regression"]["slope"] == pytest.approx(fit.params[1], rel=1e-9)
    assert report["regression"]["f_p"] == pytest.approx(fit.f_pvalue, rel=1e-9)
    text = run_command("--csv", str(path))
    assert "Model Summary" in text and "ANOVA" in text and "Coefficients" in text
    assert three(fit.fvalue) in text


def test_a_bad_csv_is_reported_line_by_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("alliance,anxiety\n50,20\nfifty,21\n52,2O\n53,19\n")
    with pytest.raises(CommandError) as raised:
        run_command("--csv", str(path))
    message = str(raised.value)
    assert "Line 3" in message and "fifty" in message
    assert "Line 4" in message and "2O" in message
    assert "Line 2" not in message and "Line 5" not in message


def test_a_row_with_an_empty_score_is_left_out_and_said_so(tmp_path):
    path = tmp_path / "gaps.csv"
    rows = [*SESSIONS[:3], ("", 25), *SESSIONS[3:]]
    path.write_text("alliance,anxiety\n" + "".join(f"{x},{y}\n" for x, y in rows))
    report = json.loads(run_command("--csv", str(path), "--format", "json"))
    assert report["warnings"][0] == "Line 5 has no alliance score and is left out."
    fit, _x, _y = ols(SESSIONS)
    assert report["regression"]["slope"] == pytest.approx(fit.params[1], rel=1e-9)


def test_the_export_of_a_session_without_a_wai_sr_answer_reads_back(
    client, counselor, student, tmp_path
):
    study(student, sessions=[*SESSIONS[:3], (None, 25), *SESSIONS[3:]])
    client.force_login(counselor)
    path = tmp_path / "export.csv"
    path.write_bytes(client.get(reverse("analytics:report-csv", args=[student.pk])).content)
    from_file = json.loads(run_command("--csv", str(path), "--format", "json"))
    from_database = json.loads(run_command(student.username, "--format", "json"))
    assert from_file["regression"] == from_database["regression"]
    assert from_database["regression"]["n"] == len(SESSIONS)
    assert "has no alliance score and is left out" in from_file["warnings"][0]


def test_a_csv_without_the_columns_says_which_are_needed(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("x1,y1\n1,2\n")
    with pytest.raises(CommandError, match="alliance, anxiety"):
        run_command("--csv", str(path))


def test_the_command_needs_exactly_one_source(tmp_path, student):
    with pytest.raises(CommandError):
        run_command()
    with pytest.raises(CommandError):
        run_command(student.username, "--csv", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="No student"):
        run_command("nobody")

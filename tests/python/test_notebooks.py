"""Execute every example notebook in ``notebooks/`` from a clean kernel.

Each notebook runs top to bottom with nbclient (kernel ``python3``, 300 s per
cell, working directory ``notebooks/``); no cell may raise, and every cell that
draws (calls ``gs.plot.*`` or ``plt.show()``) must leave a non-empty PNG, and
the figures the text quotes (``QUOTED``) must be those the notebook computes.

The kernel is the Python running the tests: a ``python3`` kernel spec pointing
at ``sys.executable`` is written to a temporary directory, so nothing has to be
installed with ``python -m ipykernel install`` and a stray user kernel spec
cannot redirect the notebooks to another environment.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CELL_TIMEOUT = 300
# a cell "creates a figure" if it calls a gs.plot function or shows a pyplot figure
DRAWS = re.compile(r"\bgs\.plot\.\w+\(|\bplt\.show\(")

_missing = [m for m in ("nbformat", "nbclient", "ipykernel", "jupyter_client", "matplotlib")
            if importlib.util.find_spec(m) is None]
needs_jupyter = pytest.mark.skipif(
    bool(_missing),
    reason=f"notebook tests need {', '.join(_missing)}: pip install -e '.[test]'",
)


def test_notebooks_exist_and_are_stripped():
    names = [p.name for p in NOTEBOOKS]
    for expected in ("01_scenarios_and_potash_dislocation.ipynb", "03_middle_corridor_infrastructure.ipynb",
                     "04_technology_transfer.ipynb"):
        assert expected in names
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert nb["nbformat"] == 4
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), (
            f"{path.name}: outputs not stripped")
        last = nb["cells"][-1]
        assert last["cell_type"] == "markdown" and "take away" in "".join(last["source"]).lower()


@pytest.fixture(scope="module")
def kernel_spec_manager(tmp_path_factory):
    """A KernelSpecManager whose only ``python3`` kernel is this interpreter."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(path=str(kernels / "python3"))  # argv: [sys.executable, -m, ipykernel_launcher, ...]
    return KernelSpecManager(kernel_dirs=[str(kernels)])


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """Environment of the kernel: inline figures, IPython and Jupyter state in tmp_path."""
    monkeypatch.delenv("MPLBACKEND", raising=False)  # an Agg backend from CI would hide the figures
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))


# Figures the notebooks' text quotes, each checked against the notebook's own variables
# once it has run: (a pattern matching the sentence, whose group is the figure as
# printed; the expression computing it; the decimals it is rounded to). The figure is
# read from the text, not written here, so that a change of model or data that moves it
# fails here and names the sentence to update.
QUOTED = {
    "01_scenarios_and_potash_dislocation": [
        (r"in about (\d+)% of the weighted paths", '100 * p450["all"]', 0),
        (r"\(0\.20 × (\d+)% ≈", '100 * p450["bear"]', 0),
        (r"\(0\.55 × (\d+)% ≈", '100 * p450["base"]', 0),
        (r"\(± (\d\.\d) points, one Monte Carlo standard error\)", '100 * se["all"]', 1),
    ],
    "02_commodities_arbitrage": [
        (r"Newey–West t-statistic \(about −(\d\.\d)\)", '-table.at["alpha", "estimate"] / table.at["alpha", "std_err_nw"]', 1),
        (r"likelihood-ratio statistic of about (\d+)", "fit.likelihood_ratio", -1),
        (r"from about (\d+)% to \d+% overall",
         '100 * sim0.summary("potash_spot").loc[("potash_spot", "all"), "p_above"]', 0),
        (r"from about \d+% to (\d+)% overall",
         '100 * sim.summary("potash_spot").loc[("potash_spot", "all"), "p_above"]', 0),
        (r"max drawdown ≈ (\d+)% from the April 2022 peak", '100 * m["max_drawdown"]', 0),
        (r"moves the base θ from the note's 352 to about (\d+)",
         'world.to_dict()["scenarios"]["base"]["potash_spot"]["theta"]', 0),
        (r"a long-run level \(e\^E\[ln X\]\) of about (\d+)", 'fit.diffusion.params["theta"]', 0),
        (r"the potash beta runs from about (-\d\.\d\d) to",
         'beta_boot.table.at[("fertilizer_producers", "potash_spot"), "lower"]', 2),
        (r"the potash beta runs from about -\d\.\d\d to (\d\.\d\d) at 95%",
         'beta_boot.table.at[("fertilizer_producers", "potash_spot"), "upper"]', 2),
        (r"in circular blocks of (\d+) \(", 'round(betas.n_obs ** (1 / 3))', 0),
        (r"Resampling the (\d+) months", "betas.n_obs", 0),
        (r"κ's interval reaches (\d+):", '1e6 * boot.table.at["kappa", "lower"]', 0),  # 0 itself
        (r"μ_J's interval is about (\d\.\d) times as wide",
         '(boot.table.at["mu_j", "upper"] - boot.table.at["mu_j", "lower"]) / (2 * 1.96 * fit.std_errors["mu_j"])', 1),
        (r"σ's standard error is about (\d\.\d) times the refits' spread",
         'fit.std_errors["sigma"] / boot.table.at["sigma", "boot_std"]', 1),
        (r"(\d+)% of these monthly quotes are unchanged", '100 * np.mean(np.diff(np.log(potash.to_numpy())) == 0)', 0),
        (r"from about (\d+) to \d+ jumps a year", 'boot.table.at["lambda", "lower"]', 0),
        (r"from about \d+ to (\d+) jumps a year", 'boot.table.at["lambda", "upper"]', 0),
        (r"the jump model's is about (\d+)% lower",
         '100 * (1 - (fit_column(fit)["total vol (per √year)"] / fit_column(fit.diffusion)["total vol (per √year)"]) ** 2)',
         0),
    ],
    "04_technology_transfer": [
        (r"by about (\d+) standard errors of the simulation", "gap_z", 0),
        (r"correlation with HK equity from about (0\.\d+)", 'corr.loc["tech_unhedged", "all"]', 2),
        (r"correlation with HK equity from about 0\.\d+ to about (0\.\d+)",
         'corr.loc["technology_transfer", "all"]', 1),
    ],
    "05_views_and_allocation": [
        (r"relative entropy ≈ (0\.\d+)", 'info["relative_entropy"]', 2),
        (r"effective number of scenarios still ≈ (\d+)% of the paths",
         '100 * info["effective_scenarios"] / sim.n_paths', 0),
        (r"stays below about (\d+)%", "100 * cross", 0),
        (r"\(about (\d+)/\d+/\d+%\)", '100 * alloc["prior"].weights["commodities_arbitrage"]', 0),
        (r"\(about \d+/(\d+)/\d+%\)", '100 * alloc["prior"].weights["infrastructure_beneficiaries"]', 0),
        (r"\(about \d+/\d+/(\d+)%\)", '100 * alloc["prior"].weights["technology_transfer"]', 0),
        (r"\(20% → about (\d+)%\)", '100 * one_at_a_time["trade view only"]["P(bear)"]', 0),
    ],
    "06_your_own_thesis": [
        (r"a urea beta of about (0\.\d+) \(t", 'timing["monthly averages"]["urea beta"]', 2),
        (r"\(t ≈ (\d+\.\d)\)", 'timing["monthly averages"]["t (Newey–West)"]', 1),
        (r"a market beta of about (\d\.\d)", 'timing["monthly averages"]["market beta"]', 1),
        (r"SPY's do not, p = (0\.\d+)",
         'gs.calibrate._chi2_sf(gs.calibrate.gbm(month_end["spy_adj_close"], jumps=True).likelihood_ratio, 3)', 2),
        (r"gives g ≈ (\d+)% a year", '100 * eq_changes.at["scenarios.base.global_equity.g", "new"]', 0),
        (r"a standard error of about (\d+)%", '100 * eq_changes.at["scenarios.base.global_equity.g", "std_err"]', 0),
        (r"returns about (\d+)% to August 2026 in the gas shock",
         '100 * sim.risk_table(ALPHA).at[("long_nitrogen_hedged", "gas_shock"), "mean_return"]', 0),
        (r"against (\d+)% in the base case and",
         '100 * sim.risk_table(ALPHA).at[("long_nitrogen_hedged", "base"), "mean_return"]', 0),
        (r"(\d+)% in the glut", '100 * sim.risk_table(ALPHA).at[("long_nitrogen_hedged", "glut"), "mean_return"]', 0),
        (r"shock's onset \((\d+)% in both\)", '100 * sim.risk_table(ALPHA).at[("long_nitrogen", "base"), "mean_return"]', 0),
        (r"shock's onset \((\d+)% in both\)",
         '100 * sim.risk_table(ALPHA).at[("long_nitrogen", "gas_shock"), "mean_return"]', 0),
        (r"against the model's (\d+)%", '100 * sim.summary("urea_spot").at[("urea_spot", "all"), "p_above"]', 0),
        (r"the position gained about (\d+)%", '100 * (squeeze.max() / squeeze.iloc[0] - 1)', 0),
        (r"then gave back (\d+)%", '-100 * (bt.equity.iloc[-1] / squeeze.max() - 1)', 0),
        (r"it made about (\d+)% a year", '100 * bt.metrics["cagr"]', 0),
        (r"through a (\d+)% drawdown", '100 * bt.metrics["max_drawdown"]', 0),
        (r"its peak in (\d{4}), before the squeeze", 'bt.metrics["peak_date"].year', 0),
    ],
}


def _quoted_checks(nb, stem: str) -> str:
    """A code cell checking the figures ``QUOTED`` reads from the notebook's markdown."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    checks = []
    for pattern, expr, decimals in QUOTED.get(stem, []):
        found = re.findall(pattern, text)
        assert len(found) == 1, f"{stem}: the text should quote {pattern!r} once, found {found}"
        checks.append((pattern, float(found[0]), expr, decimals))
    return (
        f"for _pattern, _quoted, _expr, _decimals in {checks!r}:\n"
        "    _value = float(eval(_expr))\n"
        "    assert round(_value, _decimals) == _quoted, (\n"
        "        f'the text quotes {_quoted:g} ({_pattern!r}) but {_expr} = {_value:.6g}')\n"
    )


def test_quoted_figures_are_read_from_the_text():
    # every notebook with quoted figures exists, and a figure the text does not
    # print as the check reads it fails the check
    import nbformat

    stems = {p.stem for p in NOTEBOOKS}
    assert set(QUOTED) <= stems
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("P(win) is about 29% here.")])
    QUOTED["_probe"] = [(r"is about (\d+)% here", "0.291 * 100", 0)]
    try:
        ns: dict = {}
        exec(_quoted_checks(nb, "_probe"), ns)  # 29.1 rounds to the 29 quoted
        QUOTED["_probe"] = [(r"is about (\d+)% here", "0.296 * 100", 0)]
        with pytest.raises(AssertionError, match="quotes 29"):
            exec(_quoted_checks(nb, "_probe"), {})
    finally:
        del QUOTED["_probe"]


def _pngs(cell) -> list[bytes]:
    out = []
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        if "image/png" in data:
            out.append(base64.b64decode(data["image/png"]))
    return out


@needs_jupyter
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_draws(path, kernel_spec_manager, kernel_env, record_property):
    import nbformat
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    # after the last cell, the figures its text quotes (the file itself is not changed)
    nb.cells.append(nbformat.v4.new_code_cell(_quoted_checks(nb, path.stem)))
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=kernel_spec_manager)
    client = NotebookClient(
        nb,
        km=km,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},  # the working directory
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as e:  # pragma: no cover - the message names the cell and the error
        pytest.fail(f"{path.name} failed:\n{e}")
    elapsed = time.perf_counter() - start
    record_property("runtime_s", round(elapsed, 1))
    print(f"{path.name}: {elapsed:.1f} s")

    assert km.kernel_spec.argv[0] == sys.executable
    drawing = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and DRAWS.search(c.source)]
    assert drawing, f"{path.name} draws nothing"
    for i, cell in drawing:
        pngs = _pngs(cell)
        assert pngs, f"{path.name}, cell {i}: no image/png output for\n{cell.source}"
        for png in pngs:
            assert png.startswith(PNG_SIGNATURE), f"{path.name}, cell {i}: not a PNG"
            assert len(png) > 1000, f"{path.name}, cell {i}: PNG of only {len(png)} bytes"
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error", f"{path.name}, cell {i}: {o.get('ename')}"

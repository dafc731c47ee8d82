#!/usr/bin/env bash
# The full test run, after `python -m pip install -e ".[test]"`:
#   formatting and lints (cargo fmt, clippy, ruff), types (mypy, stubtest of _core),
#   the Rust docs' links, Rust tests, Python tests with doctests, and the packaging check: an abi3 wheel
#   from `maturin build --release`, installed into a fresh virtual environment and
#   tested there from a directory outside the repository.
# Every step fails the script. PYTHON selects the interpreter (default: python).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python}"

step() { printf '\n==== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets --features python -- -D warnings"
cargo clippy --all-targets --features python -- -D warnings

step "cargo doc: every intra-doc link resolves"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --document-private-items --quiet

step "cargo test --release"
cargo test --release

step "ruff check python tests benches"
"$PY" -m ruff check python tests benches

step "mypy python/geoscenario"
"$PY" -m mypy python/geoscenario

step "stubtest geoscenario._core"
"$PY" -m mypy.stubtest geoscenario._core --allowlist tests/stubtest_allowlist.txt

step "pytest (Python tests and the doctests of python/geoscenario)"
"$PY" -m pytest -p no:cacheprovider tests/python python/geoscenario --doctest-modules

step "wheel: maturin build --release, fresh venv, tests against the installed wheel"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/geoscenario-wheel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
"$PY" -m maturin build --release --out "$WORK/dist"
shopt -s nullglob
wheels=("$WORK"/dist/*.whl)
shopt -u nullglob
if [ "${#wheels[@]}" -ne 1 ]; then
    echo "expected one wheel in $WORK/dist, found ${#wheels[@]}" >&2
    exit 1
fi
case "$(basename "${wheels[0]}")" in
    *-abi3-*) echo "abi3 wheel: $(basename "${wheels[0]}")" ;;
    *) echo "not an abi3 wheel: $(basename "${wheels[0]}")" >&2; exit 1 ;;
esac
"$PY" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install --quiet --disable-pip-version-check "${wheels[0]}" pytest hypothesis numpy pandas
# the tests and their data, copied outside the repository so that the source tree cannot be imported
mkdir -p "$WORK/run/tests"
cp -r tests/python tests/data "$WORK/run/tests/"
cd "$WORK/run"
"$VPY" - <<'EOF'
import sys
import geoscenario
import geoscenario._core as core
where = geoscenario.__file__
assert sys.prefix in where, f"geoscenario imported from {where}, not from the fresh environment"
print(f"geoscenario {geoscenario.__version__} (core {core.__version__}) from {where}")
EOF
# test_plot, test_distributed and test_notebooks need the optional extras (matplotlib, dask,
# nbclient); the SLSQP cross-check needs scipy, which only the test extra installs;
# test_config_reference reads docs/, which is not copied.
# (-W: as pyproject.toml's filter, which this directory does not have)
"$VPY" -m pytest -p no:cacheprovider -q tests/python \
    -W "ignore:scenario 'bull' starts in months 3:UserWarning" \
    --ignore=tests/python/test_config_reference.py \
    --ignore=tests/python/test_plot.py \
    --ignore=tests/python/test_distributed.py \
    --ignore=tests/python/test_notebooks.py \
    --deselect=tests/python/test_risk_core.py::test_entropy_pooling_matches_a_direct_slsqp_solve

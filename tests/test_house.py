"""The shape of the house, checked on the real source: the wings' import contract, names imported from
where they are made, empty subpackage doors, and modules and functions of a readable size."""

from __future__ import annotations

import ast
import io
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "cuecoach"
MODULE_MAX_LINES = 400
FUNCTION_MAX_LINES = 50
# a silenced check names its code and says why: `noqa: CODE - why`, or `type: ignore[code]` then a comment
# saying why (mypy reads no other form after an ignore)
SILENCED = re.compile(r"#\s*(noqa\b|type:\s*ignore\b)")
SAYS_WHY = re.compile(r"#\s*(noqa:\s*[A-Z]+\d+(,\s*[A-Z]+\d+)*\s+-\s+\w|type:\s*ignore\[[\w\-, ]+\]\s*#\s*\w)")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_names(path: Path) -> set[str]:
    """What a module makes itself: its functions, classes and assigned names (not what it imports)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(name.id for target in node.targets for name in ast.walk(target) if isinstance(name, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_import_contract_holds() -> None:
    """import-linter's contracts in pyproject.toml: the wings' layers, and no cycles anywhere."""
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert linter, "import-linter is part of the test extra: pip install -e '.[test]'"
    done = subprocess.run([linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout and "2 kept" in done.stdout, done.stdout


def test_a_wing_that_imports_upwards_breaks_the_contract(tmp_path: Path) -> None:
    """The contract can fail: a copy of the package where the audio wing imports the builder is refused."""
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "cuecoach")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (copy / "cuecoach" / "audio" / "upwards.py").write_text("from cuecoach.builder import job\n")
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert linter
    done = subprocess.run([linter, "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert done.returncode != 0 and "cuecoach.audio.upwards -> cuecoach.builder.job" in done.stdout, done.stdout


def test_names_are_imported_from_the_module_that_makes_them() -> None:
    """`from cuecoach.x import name` takes a name x defines, or a submodule of x: never one x only passes on."""
    known = {dotted(path): path for path in modules()}
    wrong = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("cuecoach"):
                continue
            source = known[node.module or ""]
            made = top_level_names(source)
            for alias in node.names:
                if alias.name not in made and f"{node.module}.{alias.name}" not in known:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {alias.name} from {node.module}")
    assert not wrong, "\n".join(wrong)


def test_subpackage_doors_are_empty() -> None:
    """Empty __init__.py files: importing a wing runs nothing, so a no-op build loads nothing heavy."""
    doors = [path for path in PACKAGE.rglob("__init__.py") if path.parent != PACKAGE]
    assert len(doors) >= 7
    assert [str(path.relative_to(ROOT)) for path in doors if path.read_text().strip()] == []


def test_modules_and_functions_stay_readable() -> None:
    too_long = [f"{path.relative_to(ROOT)}: {len(path.read_text().splitlines())} lines" for path in modules()
                if len(path.read_text().splitlines()) > MODULE_MAX_LINES]
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                length = (node.end_lineno or start) - start + 1
                if length > FUNCTION_MAX_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}:{start}: {node.name}() {length} lines")
    assert too_long == []


@pytest.mark.parametrize("folder", ["bench", "scripts"])
def test_tools_live_outside_the_tests(folder: Path) -> None:
    assert list((ROOT / folder).glob("*.py"))
    assert not [p.name for p in (ROOT / "tests").glob("*.py")
                if p.name.startswith(("bench", "calibrate", "measure"))]


def silenced_without_a_reason(text: str) -> list[int]:
    """The lines whose comment silences ruff or mypy without a code and a reason."""
    return [token.start[0] for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type == tokenize.COMMENT and SILENCED.search(token.string)
            and not SAYS_WHY.search(token.string)]


def test_each_silenced_check_says_why() -> None:
    files = [path for folder in ("src", "tests", "bench", "scripts") for path in (ROOT / folder).rglob("*.py")]
    unexplained = [f"{path.relative_to(ROOT)}:{line}" for path in files
                   for line in silenced_without_a_reason(path.read_text())]
    assert unexplained == []


def test_a_bare_noqa_or_type_ignore_is_found() -> None:
    text = ("a = 1  # noqa\nb = 2  # noqa: E501\nc = 3  # type: ignore[index]\nd = 4  # type: ignore\n"
            "e = 5  # noqa: E501 - a URL\nf = 6  # type: ignore[index]  # checked above\ng = '# noqa'\n")
    assert silenced_without_a_reason(text) == [1, 2, 3, 4]

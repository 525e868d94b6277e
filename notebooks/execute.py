"""Re-run notebooks and store their outputs, as nbval will compare them (``make notebooks``).

Cells marked ``# NBVAL_SKIP`` (they need the internet) are not run; their stored outputs stay.
Usage: ``python notebooks/execute.py notebooks/*.ipynb``
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and "NBVAL_SKIP" not in cell.source:
                client.execute_cell(cell, index)
    nbformat.write(nb, path)
    print(f"executed {path}")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        execute(Path(name))

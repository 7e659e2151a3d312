"""benchmarks/reproduce_digits.py rewrites only its generated block of docs/reproduction.md.

The grid itself takes hours on a 2-core CPU at its default budget; it is not run here.
"""
import importlib.util

from conftest import ROOT

spec = importlib.util.spec_from_file_location("reproduce_digits", ROOT / "benchmarks" / "reproduce_digits.py")
reproduce = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reproduce)


def test_the_doc_keeps_its_hand_written_text_around_the_regenerated_tables(tmp_path):
    doc = tmp_path / "reproduction.md"
    doc.write_text(f"# Title\n\nintro\n\n{reproduce.BEGIN}\nold table\n{reproduce.END}\n\n## Gaps\nprose\n")

    reproduce.write_doc(doc, f"{reproduce.BEGIN}\nnew table\n{reproduce.END}")

    assert doc.read_text() == f"# Title\n\nintro\n\n{reproduce.BEGIN}\nnew table\n{reproduce.END}\n\n## Gaps\nprose\n"


def test_an_empty_results_folder_gives_a_block_that_says_so(tmp_path):
    block = reproduce.generated(tmp_path)

    assert block.startswith(reproduce.BEGIN) and "No records of finished runs yet." in block and block.endswith(reproduce.END)

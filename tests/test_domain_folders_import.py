"""Multi-domain image folders (``ROOT/<domain>/<class>/*.jpg``, as the official Office-Home, PACS
and DomainNet archives are laid out) imported in the hub schema the suites read, domain column
included, and run through the suite's own pairs."""
import json

import pytest
from datasets import load_from_disk
from fixtures_hub import write_image_folders

from tlarena.data.importer import domain_values, import_data
from tlarena_plugins.suites import office_home, pacs

CLASSES = office_home.CLASSES[:3]


@pytest.fixture
def office_home_archive(tmp_path):
    """The official archive's layout, 8x8 jpgs: ``Art`` and ``Real_World`` (the folder spelling of
    the suite's ``Real World``), three classes."""
    counts = {f"{domain}/{name}": 2 for domain in ("Art", "Real_World") for name in CLASSES}
    return write_image_folders(tmp_path / "OfficeHome", counts, suffix=".jpg")


def test_an_office_home_archive_imports_and_runs_an_office_home_pair(cli, offline, office_home_archive, tmp_path):
    data = tmp_path / "data"

    imported = cli("--data-dir", str(data), "data", "import", "imagefolder", "--hub-id", "flwrlabs/office-home",
                   "--split", f"train={office_home_archive}")
    ran = cli("--data-dir", str(data), "run", "--pairs", "office-home-art->office-home-real-world",
              "--methods", "source-only", "--settings", "uda", "--seeds", "0", "--steps", "2",
              "--source-steps", "2", "--eval-points", "1", "--batch-size", "4", "--in-process",
              "--backbone", "lenet",   # the suite's default loads ImageNet weights from the hub, unreachable here
              "--results", str(tmp_path / "results"))

    assert imported.code == 0 and "'Real_World' is read as 'Real World'" in imported.out
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("*.json")]
    assert (ran.code, record["status"]) == (0, "ok"), record.get("reason")
    assert {(d["side"], d["part"]): d["rows"] for d in record["data"]}[("target", "test")] == 6


def test_the_imported_copy_has_the_hub_columns_and_each_row_its_domain(offline, office_home_archive, tmp_path):
    sides = [side for pair in office_home.PAIRS for side in (pair.source, pair.target)]

    out = import_data("imagefolder", "flwrlabs/office-home", {"train": [office_home_archive]}, tmp_path / "data",
                      source=office_home.domain("Art"), domains=domain_values("flwrlabs/office-home", sides))

    train = load_from_disk(str(out))["train"]
    assert sorted(train.column_names) == ["domain", "image", "label"]
    assert sorted(set(train["domain"])) == ["Art", "Real World"]


def test_a_folder_that_is_no_domain_of_the_suite_is_refused_with_the_domains(office_home_archive, tmp_path):
    (office_home_archive / "Sketches" / CLASSES[0]).mkdir(parents=True)

    with pytest.raises(ValueError, match="'Sketches' .* is not a domain of flwrlabs/office-home; .*'Art', "
                                         "'Clipart', 'Product', 'Real World'"):
        import_data("imagefolder", "flwrlabs/office-home", {"train": [office_home_archive]}, tmp_path / "data",
                    source=office_home.domain("Art"), domains={"domain": office_home.DOMAINS})


def test_one_domain_folder_given_as_the_root_is_refused(cli, offline, office_home_archive, tmp_path):
    imported = cli("--data-dir", str(tmp_path / "data"), "data", "import", "imagefolder", "--hub-id",
                   "flwrlabs/office-home", "--split", f"train={office_home_archive / 'Art'}")

    assert imported.code == 2 and "<root>/<domain>/<class>/*.jpg" in imported.err
    assert not (tmp_path / "data" / "flwrlabs__office-home").exists()


def test_the_domains_of_a_hub_id_are_those_its_sources_select():
    sides = [side for pair in pacs.PAIRS for side in (pair.source, pair.target)]

    assert domain_values("flwrlabs/pacs", sides) == {"domain": pacs.DOMAINS}


def test_data_check_shows_the_imported_copy_with_its_rows(cli, offline, office_home_archive, tmp_path):
    data = tmp_path / "data"
    cli("--data-dir", str(data), "data", "import", "imagefolder", "--hub-id", "flwrlabs/office-home",
        "--split", f"train={office_home_archive}")

    checked = cli("--data-dir", str(data), "data", "check", "--suite", "office-home")

    row = next(line for line in checked.out.splitlines() if "flwrlabs/office-home" in line)
    assert checked.code == 0 and "data dir" in row and "train 12" in row

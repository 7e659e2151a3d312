"""User mistakes on the command line: one clear line, exit status 2, no traceback."""
import pytest


def test_unknown_method_suggests_the_closest_name(cli):
    result = cli("run", "--methods", "fine-tun", "--pairs", "synth-digits->uci-digits")
    assert (result.code, "Did you mean 'fine-tune'?" in result.err, "Traceback" in result.err) == (2, True, False)


def test_unknown_pair_suggests_the_closest_name(cli):
    result = cli("run", "--pairs", "synth-digit->uci-digits")
    assert result.code == 2 and "Did you mean 'synth-digits->uci-digits'" in result.err


def test_malformed_pairs_value_says_the_expected_form(cli):
    result = cli("run", "--pairs", "synth-digits>uci-digits")
    assert result.code == 2 and "write SOURCE->TARGET" in result.err and "Traceback" not in result.err


def test_empty_item_in_a_list_is_refused(cli):
    result = cli("run", "--methods", "fine-tune,,scratch", "--all")
    assert result.code == 2 and "empty item" in result.err


def test_bad_seeds_are_refused(cli):
    result = cli("run", "--all", "--seeds", "0,one")
    assert result.code == 2 and "--seeds takes whole numbers" in result.err


def test_unknown_suite_is_refused(cli):
    result = cli("run", "--all", "--suite", "embeded")
    assert result.code == 2 and "Did you mean 'embedded'?" in result.err


def test_run_without_a_selection_asks_for_one(cli):
    result = cli("run")
    assert result.code == 2 and "--all" in result.err


@pytest.mark.parametrize("option", ["--weights", "--pretrained"])
def test_bad_weights_are_refused(cli, option):
    result = cli("run", "--all", option, "imagenet")
    assert result.code == 2 and "file:PATH" in result.err


def test_show_without_results_says_how_to_get_them(cli, tmp_path):
    result = cli("show", "--results", str(tmp_path / "nothing"))
    assert result.code == 2 and "tlarena run --all" in result.err

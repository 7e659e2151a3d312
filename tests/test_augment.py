"""Train-time augmentation: crops and flips move pixels, never invent them; digits are left alone."""
import torch

from tlarena.data.augment import flip_crop
from tlarena.plugins import load_arena


def test_flip_crop_keeps_shape_dtype_and_only_moves_pixels():
    images = torch.arange(2 * 3 * 16 * 16, dtype=torch.int64).remainder(251).to(torch.uint8).view(2, 3, 16, 16)
    out = flip_crop(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert set(out.unique().tolist()) <= set(images.unique().tolist()) and not torch.equal(out, images)


def test_flip_crop_is_seeded():
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    first, second = (flip_crop(images, torch.Generator().manual_seed(7)) for _ in range(2))
    assert torch.equal(first, second)


def test_object_suites_augment_and_digit_suites_do_not():
    augment = {pair.suite: pair.augment for pair in load_arena().pairs}
    assert (augment["office-home"], augment["cifar-stl"], augment["digits"], augment["embedded"]) == \
        ("flip-crop", "flip-crop", "none", "none")


def test_the_strong_view_is_seeded_by_its_stream_and_leaves_the_global_generator_alone():
    strong = load_arena().augmentations.get("strong").apply
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    first, second = (strong(images, torch.Generator().manual_seed(7)) for _ in range(2))
    torch.manual_seed(0)
    untouched = torch.rand(1)
    torch.manual_seed(0)
    strong(images, torch.Generator().manual_seed(8))
    assert torch.equal(first, second) and first.dtype == torch.uint8 and not torch.equal(first, images)
    assert torch.equal(torch.rand(1), untouched)


def test_a_pair_naming_an_unregistered_augmentation_is_refused_with_the_choices(cli, tmp_path):
    plugin = tmp_path / "unknown_augment.py"
    plugin.write_text(
        "import tlarena\n"
        "from tlarena_plugins.embedded import UCI_DIGITS\n"
        "@tlarena.hookimpl\n"
        "def register_pairs(register):\n"
        "    register(tlarena.DomainPair(UCI_DIGITS, UCI_DIGITS, 'x', name='a->b', augment='jitter'))\n")
    result = cli("--plugin", "unknown_augment", "list", "pairs", cwd=tmp_path)
    assert "pair 'a->b': unknown augmentation 'jitter'; choose from none, flip-crop, strong, weak" in result.err


def test_fixmatchs_views_never_mirror_an_image(monkeypatch):
    # Regression: the weak view (and so the strong one) flipped half the images, and a mirrored
    # digit is another digit or none; FixMatch on the digit pairs fell below its source model.
    import tlarena_plugins.augmentations as views
    from tlarena.data.augment import translate
    from tlarena.plugins import load_arena

    augmentations = load_arena().augmentations
    images = torch.zeros(200, 3, 32, 32, dtype=torch.uint8)
    images[:, :, 8:24, 2:6] = 255   # a bar at the left edge: a translation moves it at most 4 px
    weak = augmentations.get("weak").apply(images, torch.Generator().manual_seed(0))
    assert (weak[:, :, :, 22:] == 0).all() and (weak[:, :, :, :10] == 255).any(dim=(1, 2, 3)).all()
    # strong is weak, then RandAugment and Cutout: without those two, it is the translation alone
    monkeypatch.setattr(views, "_STRONG", lambda image: image)
    strong = augmentations.get("strong").apply(images, torch.Generator().manual_seed(0))
    assert torch.equal(strong, translate(images, torch.Generator().manual_seed(0)))

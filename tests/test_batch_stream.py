"""Batch streams: full, seeded batches, the same whether the split is in memory or memory-mapped."""
import numpy as np
import torch

from tlarena.data import BatchStream, SplitTensors


def _split(tmp_path):
    images = np.arange(10 * 3 * 4 * 4, dtype=np.uint8).reshape(10, 3, 4, 4)
    labels = np.arange(10, dtype=np.int64)
    np.save(tmp_path / "images.npy", images)
    return SplitTensors(images, labels), SplitTensors(np.load(tmp_path / "images.npy", mmap_mode="r"), labels)


def _labels(stream, batches):
    return [stream.next()[1].tolist() for _ in range(batches)]


def test_a_memory_mapped_split_read_ahead_gives_the_same_batches(tmp_path):
    in_memory, mapped = _split(tmp_path)
    ahead = BatchStream(mapped, 4, seed=3, device=torch.device("cpu"))
    plain = BatchStream(in_memory, 4, seed=3, device=torch.device("cpu"))
    images_ahead, images_plain = ahead.next()[0], plain.next()[0]
    assert torch.equal(images_ahead, images_plain) and _labels(ahead, 5) == _labels(plain, 5)
    ahead.close()


def test_every_batch_is_full_and_each_pass_covers_the_split_once():
    labels = np.arange(10, dtype=np.int64)
    stream = BatchStream(SplitTensors(np.zeros((10, 1, 2, 2), np.uint8), labels), 5, seed=0,
                         device=torch.device("cpu"))
    first_pass = sorted(sum(_labels(stream, 2), []))
    assert first_pass == list(range(10))


def test_close_waits_for_the_read_ahead_thread(tmp_path):
    # Regression: close() only signalled the thread; one still inside a torch op at interpreter exit
    # aborted the process ("terminate called without an active exception", exit -6) in CI.
    import threading
    _, mapped = _split(tmp_path)
    before = set(threading.enumerate())
    stream = BatchStream(mapped, 4, seed=3, device=torch.device("cpu"))
    stream.next()
    stream.close()
    assert not [t for t in threading.enumerate() if t not in before and t.is_alive()]

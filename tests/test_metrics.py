"""Accuracy and convergence figures on hand-made examples."""
import numpy as np
import pytest

from tlarena.metrics import CurvePoint, convergence, mean_class_accuracy, top1


def _curve(accuracies, every=10):
    return [CurvePoint(i * every, i * every * 64, i * 1.0, i * 1e6, a, a) for i, a in enumerate(accuracies)]


def test_mean_class_accuracy_weights_classes_equally():
    labels = np.array([0, 0, 0, 1])
    predictions = np.array([0, 0, 0, 0])
    assert (top1(predictions, labels), mean_class_accuracy(predictions, labels)) == (0.75, 0.5)


def test_convergence_is_the_first_point_at_95_percent_of_final():
    figures = convergence(_curve([0.1, 0.5, 0.96, 0.9, 1.0]))
    assert (figures["steps_to_95"], figures["samples_to_95"], figures["seconds_to_95"],
            figures["flops_to_95"]) == (20, 1280, 2.0, 2e6)


def test_auc_is_the_mean_accuracy_over_training():
    assert convergence(_curve([0.0, 1.0, 1.0]))["auc"] == pytest.approx(0.75)


def test_a_single_point_curve_converges_at_step_zero():
    figures = convergence(_curve([0.4]))
    assert (figures["steps_to_95"], figures["auc"]) == (0, 0.4)

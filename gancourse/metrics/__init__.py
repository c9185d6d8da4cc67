"""Evaluating GANs offline: FID, KID, IS, precision/recall, two-sample tests, mode coverage.

Every image metric runs on the features of a small MNIST classifier that ships
with the package (``gancourse/assets/mnist_classifier.pt``, trained by
``python -m gancourse.metrics.train_classifier``): no download, ever. Images are
float tensors (N, 1, 28, 28) in [-1, 1]; anything else raises ``GanCourseError``.

=========================  ==================================================
``frechet_distance``       d² between two Gaussians, float64, robust to singular Σ
``fid``                    Fréchet distance of classifier features (``reference_stats()``: MNIST train)
``kid``                    unbiased kernel (MMD²) distance, with its std over subsets
``inception_score``        classifier IS (Inception-V3 only where its weights exist and asked for)
``precision_recall``       k-NN manifold precision (quality) and recall (coverage)
``nearest_neighbours``     nearest training images: memorisation
``two_sample_test``        can a classifier tell the two sets apart?
``mode_coverage``          modes covered and high-quality share on toy mixtures
=========================  ==================================================
"""
from .classifier import DigitClassifier, classify, extract_features, load_classifier, to_classifier_size
from .coverage import ModeCoverage, mode_coverage, nearest_mode
from .frechet import FeatureStats, feature_stats, fid, frechet_distance, image_stats, reference_features, reference_stats
from .inception import ISResult, inception_score, inception_score_from_probs
from .kid import KIDResult, kid, kid_from_features, mmd2_unbiased
from .neighbours import Neighbours, knn, nearest_neighbours
from .precision_recall import PrecisionRecall, precision_recall, precision_recall_from_features
from .report import evaluate_images, format_table
from .two_sample import TwoSampleResult, two_sample_test, two_sample_test_points

__all__ = [
    "DigitClassifier", "load_classifier", "extract_features", "classify", "to_classifier_size",
    "frechet_distance", "fid", "feature_stats", "image_stats", "reference_features", "reference_stats", "FeatureStats",
    "kid", "kid_from_features", "mmd2_unbiased", "KIDResult",
    "inception_score", "inception_score_from_probs", "ISResult",
    "precision_recall", "precision_recall_from_features", "PrecisionRecall",
    "nearest_neighbours", "knn", "Neighbours",
    "two_sample_test", "two_sample_test_points", "TwoSampleResult",
    "mode_coverage", "nearest_mode", "ModeCoverage",
    "evaluate_images", "format_table",
]

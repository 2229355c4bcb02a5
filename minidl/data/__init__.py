"""minidl.data: datasets and loaders (PyTorch's API), splits and preprocessing
(scikit-learn's), augmentation (torchvision's names), and class-imbalance tools.

    import minidl.data as data
    X, y = data.load_digits()                                   # bundled, offline
    train, train_dev, dev, test = data.train_dev_test_split(X, y, stratify=True, seed=0)
    scaler = data.StandardScaler().fit(train[0])                # statistics from train only
    loader = data.DataLoader(data.TensorDataset(scaler.transform(train[0]), train[1]),
                             batch_size=32, shuffle=True, seed=0)

Modules: ``dataset`` (Dataset, TensorDataset, Subset, ConcatDataset), ``sampler``,
``dataloader``, ``splits``, ``preprocessing``, ``transforms``, ``datasets``, ``imbalance``.
"""

from .dataloader import DataLoader, default_collate
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset
from .datasets import (
    HoursScores,
    load_digits,
    load_mnist,
    make_blobs,
    make_circles,
    make_hours_scores,
    make_moons,
    make_regression,
    make_spiral,
    make_xor,
    read_idx,
)
from .imbalance import class_weights, oversample, undersample
from .preprocessing import (
    PCA,
    MeanNormalizer,
    MinMaxScaler,
    NotFittedError,
    StandardScaler,
    ZCAWhitening,
)
from .sampler import (
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .splits import KFold, Split, StratifiedKFold, random_split, train_dev_test_split
from .transforms import (
    ColorJitter,
    Compose,
    GaussianNoise,
    Normalize,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomVerticalFlip,
    tta_predict,
)

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "DataLoader", "default_collate",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
    "random_split", "train_dev_test_split", "Split", "KFold", "StratifiedKFold",
    "StandardScaler", "MinMaxScaler", "MeanNormalizer", "PCA", "ZCAWhitening", "NotFittedError",
    "Compose", "Normalize", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine",
    "RandomCrop", "ColorJitter", "GaussianNoise", "tta_predict",
    "make_spiral", "make_moons", "make_blobs", "make_circles", "make_xor", "make_hours_scores", "HoursScores",
    "make_regression", "load_digits", "load_mnist", "read_idx",
    "class_weights", "oversample", "undersample",
]

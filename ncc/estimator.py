"""``NCCClassifier``: the NCC as a scikit-learn classifier over cause-effect pairs.

Samples are pairs: ``X`` is a list of (n_i, 2) arrays (any sizes), ``y[i] = 1`` when column 0
causes column 1 and 0 for the reverse. ``fit`` trains a new network on the given pairs (each also
seen reversed); ``NCCClassifier.pretrained()`` wraps the shipped model instead.

    >>> from sklearn.model_selection import cross_val_score
    >>> cross_val_score(NCCClassifier(steps=300), pairs, labels, cv=3)
"""
from __future__ import annotations

import contextlib
import os
from typing import Union

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ncc._params import ParameterError

__all__ = ["NCCClassifier"]

# Config fields the estimator spells differently (every other field has the parameter's name).
_PARAMETER_OF_FIELD = {"ensemble": "n_members", "eval_every": "steps", "checkpoint_every": "steps"}


def _check_pairs(X) -> list[np.ndarray]:
    from ncc.data import as_pair_list

    return list(as_pair_list(X, "X"))


def _check_labels(y, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"y must be a 1-D array with one label per pair ({n}), got shape {y.shape}")
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not (np.issubdtype(y.dtype, np.number) and np.isin(y, (0, 1)).all()):
        raise ValueError("y must hold 1 (column 0 causes column 1) or 0 (column 1 causes column 0)")
    return y.astype(np.int64)


class NCCClassifier(ClassifierMixin, BaseEstimator):
    """Neural Causation Coefficient classifier: is column 0 the cause of column 1?

    Parameters
    ----------
    embed_dim, embed_layers, classifier_dim, classifier_layers, dropout, batchnorm :
        architecture (:class:`ncc.NCCConfig`; paper defaults).
    statistics, copula, rounds :
        the options beyond the paper (:class:`ncc.NCCConfig`): the hybrid network's classic
        statistics, copula coordinates, a second pooling round. Off by default, as in the paper;
        the shipped model has ``statistics=True, copula=True``.
    n_members : int
        networks in the ensemble (scores averaged).
    steps, batch_size, lr, optimizer, lr_schedule, weight_decay :
        training (:class:`ncc.train.TrainConfig`); each step sees ``batch_size`` pairs and their
        reversals, drawn in seeded epochs over the training pairs.
    max_points, n_subsamples :
        scoring: pairs above ``max_points`` points are scored as the mean over ``n_subsamples``
        seeded random subsamples.
    device : "cpu", "cuda" or "auto".
    random_state : None, int or RandomState; an int makes ``fit`` reproducible on CPU.
    verbose : bool, show a progress bar while fitting.

    Attributes
    ----------
    model_ : the fitted :class:`ncc.NCC` (or :class:`ncc.model.NCCEnsemble`).
    classes_ : array([0, 1]).
    """

    def __init__(self, *, embed_dim: int = 100, embed_layers: int = 2, classifier_dim: int = 100,
                 classifier_layers: int = 2, dropout: float = 0.25, batchnorm: bool = True,
                 statistics: bool = False, copula: bool = False, rounds: int = 1, n_members: int = 1,
                 steps: int = 1000, batch_size: int = 32, lr: float = 1e-3, optimizer: str = "adam",
                 lr_schedule: str = "constant", weight_decay: float = 0.0, max_points: int = 5000,
                 n_subsamples: int = 8, device: str = "cpu", random_state=None, verbose: bool = False) -> None:
        self.embed_dim = embed_dim
        self.embed_layers = embed_layers
        self.classifier_dim = classifier_dim
        self.classifier_layers = classifier_layers
        self.dropout = dropout
        self.batchnorm = batchnorm
        self.statistics = statistics
        self.copula = copula
        self.rounds = rounds
        self.n_members = n_members
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.max_points = max_points
        self.n_subsamples = n_subsamples
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _named_errors(self):
        """A bad setting becomes a ValueError naming this estimator's parameter:
        ``NCCClassifier(steps=-1): steps must be a positive integer``."""
        try:
            yield
        except ParameterError as exc:
            name = _PARAMETER_OF_FIELD.get(exc.field, exc.field)
            raise exc.restated(type(self).__name__, name, getattr(self, name)) from None

    def _model_config(self):
        from ncc.model import NCCConfig

        with self._named_errors():
            return NCCConfig(embed_dim=self.embed_dim, embed_layers=self.embed_layers,
                             classifier_dim=self.classifier_dim, classifier_layers=self.classifier_layers,
                             dropout=self.dropout, batchnorm=self.batchnorm, statistics=self.statistics,
                             copula=self.copula, rounds=self.rounds, max_points=self.max_points,
                             n_subsamples=self.n_subsamples)

    def _configs(self, seed: int):
        """(NCCConfig, TrainConfig, torch device) from the hyper-parameters."""
        from ncc.devices import resolve_device
        from ncc.train import TrainConfig

        model_config = self._model_config()
        with self._named_errors():
            train_config = TrainConfig(steps=self.steps, batch_size=self.batch_size, lr=self.lr,
                                       optimizer=self.optimizer, lr_schedule=self.lr_schedule,
                                       weight_decay=self.weight_decay, seed=seed, ensemble=self.n_members,
                                       n_heldout=0, eval_every=self.steps, checkpoint_every=self.steps)
            device = resolve_device(self.device)
        return model_config, train_config, device

    def fit(self, X, y) -> "NCCClassifier":
        """Train a new NCC on the pairs ``X`` with directions ``y`` (and on their reversals)."""
        from ncc.train import ArrayPairs, train_ncc

        pairs = _check_pairs(X)
        labels = _check_labels(y, len(pairs))
        if len(pairs) == 0:
            raise ValueError("fit needs at least one pair")
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        model_config, train_config, device = self._configs(seed)
        data = ArrayPairs(pairs, labels, seed=seed, source={"source": "NCCClassifier.fit", "n_pairs": len(pairs)})
        result = train_ncc(model_config, train_config, data, device=device, progress=bool(self.verbose))
        self.model_ = result.model
        self.classes_ = np.array([0, 1])
        self.training_metadata_ = result.metadata
        return self

    @classmethod
    def pretrained(cls, model: Union[None, str, os.PathLike] = None, **params) -> "NCCClassifier":
        """A fitted classifier around a trained model file (default: the shipped model).

        Its architecture parameters are read from the model, so ``clone(...).fit`` retrains the
        same architecture from scratch.
        """
        from ncc.api import resolve_model

        net = resolve_model(model)
        c = net.config
        arch = dict(embed_dim=c.embed_dim, embed_layers=c.embed_layers, classifier_dim=c.classifier_dim,
                    classifier_layers=c.classifier_layers, dropout=c.dropout, batchnorm=c.batchnorm,
                    statistics=c.statistics, copula=c.copula, rounds=c.rounds,
                    n_members=len(net.members), max_points=c.max_points, n_subsamples=c.n_subsamples)
        estimator = cls(**{**arch, **params})
        estimator.model_ = net
        estimator.classes_ = np.array([0, 1])
        return estimator

    # -- prediction ----------------------------------------------------------------------------
    def _scores(self, X) -> np.ndarray:
        from ncc.api import score_pairs

        check_is_fitted(self, "model_")
        pairs = _check_pairs(X)
        return score_pairs(pairs, self.model_, max_points=self.max_points, n_subsamples=self.n_subsamples)

    def predict_proba(self, X) -> np.ndarray:
        """Columns [P(column 1 → column 0), P(column 0 → column 1)], in the order of ``classes_``."""
        s = self._scores(X)
        return np.column_stack([1.0 - s, s])

    def decision_function(self, X) -> np.ndarray:
        """log-odds of column 0 → column 1 (positive: predict 1)."""
        s = np.clip(self._scores(X), 1e-12, 1 - 1e-12)
        return np.log(s) - np.log1p(-s)

    def predict(self, X) -> np.ndarray:
        scores = self._scores(X)
        return self.classes_[(scores > 0.5).astype(int)]

    # -- pickling: the network travels as safetensors bytes, never as pickled torch objects ----
    def __getstate__(self) -> dict:
        from ncc.serialization import model_to_bytes

        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        if "model_" in state:
            state["model_"] = {"safetensors": model_to_bytes(state["model_"])}
        return state

    def __setstate__(self, state: dict) -> None:
        from ncc.serialization import model_from_bytes

        state = dict(state)
        if isinstance(state.get("model_"), dict) and "safetensors" in state["model_"]:
            state["model_"] = model_from_bytes(state["model_"]["safetensors"], "pickled NCCClassifier")
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            self.__dict__.update(state)

    # scikit-learn >= 1.6 (the floor in pyproject.toml) reads tags from here; _more_tags is gone.
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # samples are pairs of any size, not rows
        tags.non_deterministic = self.random_state is None
        return tags

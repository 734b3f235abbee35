"""The class variable c_jk: per-image log-odds of each category from original-image features.

The paper uses an MLP with two hidden layers of 512 units trained on image-level labels; a
logistic regression is offered as a cheaper, convex alternative. Log-odds are read *before*
the sigmoid (no clipping of probabilities near 0 or 1). Cross-fitting makes sure no image is
scored by a classifier that was trained on it.
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state


class LogOddsClassifier(BaseEstimator):
    """Multi-label classifier whose ``decision_function`` returns log-odds, one column per category.

    Parameters
    ----------
    kind : "mlp" (paper: two hidden layers of 512, ReLU) or "logreg" (one logistic regression per category)
    hidden : hidden layer sizes of the MLP
    alpha : L2 penalty of the MLP, on standardised features
    C : inverse L2 penalty of the logistic regressions (sklearn's default)
    max_iter : optimiser epochs / iterations
    random_state : seed or RandomState
    """

    def __init__(self, kind: str = "mlp", hidden: tuple[int, ...] = (512, 512), alpha: float = 1e-4,
                 C: float = 1.0, max_iter: int = 200, random_state=None):
        self.kind = kind
        self.hidden = hidden
        self.alpha = alpha
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "LogOddsClassifier":
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y).astype(int)
        if Y.ndim != 2 or len(Y) != len(X):
            raise ValueError(f"Y must be (n_images, n_categories) matching X; got {Y.shape} for X {X.shape}")
        rng = check_random_state(self.random_state)
        self.scaler_ = StandardScaler().fit(X)
        Xs = self.scaler_.transform(X)
        n_cat = Y.shape[1]
        # A category that is always (or never) present in the training images cannot be learnt:
        # its log-odds are the smoothed training frequency, the best constant guess.
        pos = Y.sum(axis=0)
        self.constant_ = (pos == 0) | (pos == len(Y))
        self.prior_log_odds_ = np.log((pos + 0.5) / (len(Y) - pos + 0.5))
        learn = np.flatnonzero(~self.constant_)
        self.learned_columns_ = learn
        self.models_ = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is the budget we chose
            if self.kind == "mlp" and len(learn):
                from sklearn.neural_network import MLPClassifier

                mlp = MLPClassifier(hidden_layer_sizes=tuple(self.hidden), activation="relu", alpha=self.alpha,
                                    max_iter=self.max_iter, random_state=rng.randint(2**31 - 1))
                # 2-D targets make sklearn train one sigmoid output per column (multi-label).
                target = Y[:, learn] if len(learn) > 1 else Y[:, learn[0]]
                self.models_.append(mlp.fit(Xs, target))
            elif self.kind == "logreg":
                from sklearn.linear_model import LogisticRegression

                for k in learn:
                    lr = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=rng.randint(2**31 - 1))
                    self.models_.append(lr.fit(Xs, Y[:, k]))
            elif self.kind != "mlp":
                raise ValueError(f"kind must be 'mlp' or 'logreg', got {self.kind!r}")
        self.n_categories_ = n_cat
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Log-odds, shape (n_images, n_categories)."""
        Xs = self.scaler_.transform(np.asarray(X, dtype=np.float64))
        out = np.tile(self.prior_log_odds_, (len(Xs), 1)).astype(np.float64)
        learn = self.learned_columns_
        if not len(learn):
            return out
        if self.kind == "mlp":
            out[:, learn] = _mlp_logits(self.models_[0], Xs).reshape(len(Xs), -1)
        else:
            for k, lr in zip(learn, self.models_):
                out[:, k] = lr.decision_function(Xs)
        return out


def _mlp_logits(mlp, X: np.ndarray) -> np.ndarray:
    """The MLP's output before its sigmoid (sklearn only exposes probabilities)."""
    h = X
    last = len(mlp.coefs_) - 1
    for i, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        h = h @ W + b
        if i < last:
            h = np.maximum(h, 0.0)  # ReLU, the activation we configured
    return h


def cross_fit_log_odds(X: np.ndarray, Y: np.ndarray, *, n_folds: int = 5, kind: str = "mlp",
                       hidden: tuple[int, ...] = (512, 512), max_iter: int = 200,
                       random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """K-fold cross-fitted log-odds: each image is scored by a classifier trained on the other folds.

    Returns ``(log_odds (n, K), fold (n,))``.
    """
    n = len(X)
    if n < 2:
        raise ValueError(f"need at least 2 images to cross-fit, got {n}")
    rng = check_random_state(random_state)
    folds = KFold(n_splits=min(n_folds, n), shuffle=True, random_state=rng.randint(2**31 - 1))
    out = np.empty(Y.shape, dtype=np.float64)
    fold_of = np.empty(n, dtype=np.int64)
    for f, (train, test) in enumerate(folds.split(X)):
        clf = LogOddsClassifier(kind=kind, hidden=hidden, max_iter=max_iter,
                                random_state=rng.randint(2**31 - 1)).fit(X[train], Y[train])
        out[test] = clf.decision_function(X[test])
        fold_of[test] = f
    return out, fold_of

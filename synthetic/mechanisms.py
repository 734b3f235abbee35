"""Mechanism families: how an effect is made from a standardised cause x.

Every family is a function ``family(x, layout, rng, noise_codes) -> effect`` that
generates a whole batch of pairs at once (see :mod:`synthetic._layout`); all of its
random parameters are drawn per pair.  In the formulas below ``e`` is unit-variance
noise whose shape (Gaussian, uniform, Laplace, Student-t) is ``noise_codes[p]``
(:mod:`synthetic.noise`), ``sigma ~ logU[0.02, 1]`` is a per-pair noise level relative
to a unit-sd signal, and ``std(.)`` standardises per pair.  The generator standardises
the effect afterwards, so only shapes matter, not overall scales.
"""
from __future__ import annotations

import numpy as np

from synthetic._layout import DTYPE, Layout, standardise
from synthetic.noise import noise_scale, unit_noise
from synthetic.splines import random_splines

N_FOURIER = 32  # random Fourier features per GP draw: enough for a smooth random look
N_HIDDEN = 16  # hidden units of the random network


def spline(x, layout: Layout, rng, noise_codes):
    """Paper (reference section 1): ``y = f(x) + v(x) e``.

    f and v are cubic Hermite splines with d ~ U{4, 5} knots evenly spread over
    [min x - sd x, max x + sd x] and knot values N(0, 1) (f and v share d); e has
    variance s ~ U[0, 5] (Gaussian by default, as in the paper).
    """
    f, v = random_splines(x, layout, rng, 2)
    s = rng.uniform(0.0, 5.0, size=layout.n_pairs)
    return f + v * unit_noise(layout, noise_codes, rng) * layout.expand(np.sqrt(s))


def linear(x, layout: Layout, rng, noise_codes):
    """``y = s x + sigma e`` with a random sign s = +-1 (a slope's size would vanish in
    the final standardisation; sigma alone sets the signal-to-noise ratio)."""
    n = layout.n_pairs
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return layout.expand(sign) * x + _noise(layout, rng, noise_codes)


def polynomial(x, layout: Layout, rng, noise_codes):
    """``y = std(sum_{j=1..K} c_j x^j) + sigma e`` with degree K ~ U{2, 3}, c_j ~ N(0, 1)."""
    n = layout.n_pairs
    degree = rng.integers(2, 4, size=n)
    c = rng.standard_normal((n, 3))
    c[:, 2] *= degree == 3
    f = ((layout.expand(c[:, 2]) * x + layout.expand(c[:, 1])) * x + layout.expand(c[:, 0])) * x
    return _add_noise(standardise(layout, f), layout, rng, noise_codes)


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))  # = 1 / (1 + exp(-t)), without overflow warnings


def _slope_and_centre(n, rng):
    slope = np.exp(rng.uniform(np.log(0.5), np.log(5.0), size=n))
    centre = rng.uniform(-1.5, 1.5, size=n)
    return slope, centre


def sigmoid_additive(x, layout: Layout, rng, noise_codes):
    """``y = std(1 / (1 + exp(-b (x - c)))) + sigma e``, b ~ logU[0.5, 5], c ~ U[-1.5, 1.5]."""
    b, c = _slope_and_centre(layout.n_pairs, rng)
    f = _sigmoid(layout.expand(b) * (x - layout.expand(c)))
    return _add_noise(standardise(layout, f), layout, rng, noise_codes)


def sigmoid_mixed(x, layout: Layout, rng, noise_codes):
    """Noise inside the nonlinearity: ``y = 1 / (1 + exp(-b (x - c + sigma e)))``,
    b ~ logU[0.5, 5], c ~ U[-1.5, 1.5]."""
    n = layout.n_pairs
    b, c = _slope_and_centre(n, rng)
    e = _noise(layout, rng, noise_codes)
    return _sigmoid(layout.expand(b) * (x - layout.expand(c) + e))


def _fourier_sum(x, omega, phi, amp, layout: Layout, e=None, omega_e=None):
    """``sum_k amp_k cos(omega_k x [+ omega_e_k e] + phi_k)``, one feature at a time.

    Looping over the F features (not over pairs or points) keeps every temporary the
    size of one variable, in cache, and sums in a fixed order (thread-independent).
    """
    out = np.zeros(layout.shape, dtype=DTYPE)
    for k in range(omega.shape[1]):
        phase = x * layout.expand(omega[:, k])
        phase += layout.expand(phi[:, k])
        if e is not None:
            phase += e * layout.expand(omega_e[:, k])
        np.cos(phase, out=phase)
        phase *= layout.expand(amp[:, k])
        out += phase
    return out


def _lengthscale(n, rng, low=0.25, high=2.5):
    return np.exp(rng.uniform(np.log(low), np.log(high), size=n))


def gp_additive(x, layout: Layout, rng, noise_codes):
    """``y = std(f(x)) + sigma e``, f a GP draw with an RBF kernel of lengthscale
    l ~ logU[0.25, 2.5], approximated by random Fourier features:
    ``f(x) = sqrt(2/F) sum_k a_k cos(w_k x + b_k)``, a_k ~ N(0, 1), w_k ~ N(0, 1/l^2),
    b_k ~ U[0, 2 pi], F = 32."""
    n = layout.n_pairs
    omega = rng.standard_normal((n, N_FOURIER)) / _lengthscale(n, rng)[:, None]
    phi = rng.uniform(0.0, 2.0 * np.pi, size=(n, N_FOURIER))
    amp = rng.standard_normal((n, N_FOURIER))
    f = _fourier_sum(x, omega, phi, amp, layout)
    return _add_noise(standardise(layout, f), layout, rng, noise_codes)


def gp_mixed(x, layout: Layout, rng, noise_codes):
    """Noise as a GP input (Mooij et al.'s SIM): ``y = f(x, sigma e)`` with f a GP draw on
    two inputs, RBF lengthscales l_x, l_e ~ logU[0.25, 2.5], approximated by random
    Fourier features: ``f = sqrt(2/F) sum_k a_k cos(w_k x + u_k sigma e + b_k)``,
    w_k ~ N(0, 1/l_x^2), u_k ~ N(0, 1/l_e^2)."""
    n = layout.n_pairs
    omega = rng.standard_normal((n, N_FOURIER)) / _lengthscale(n, rng)[:, None]
    omega_e = rng.standard_normal((n, N_FOURIER)) / _lengthscale(n, rng)[:, None]
    phi = rng.uniform(0.0, 2.0 * np.pi, size=(n, N_FOURIER))
    amp = rng.standard_normal((n, N_FOURIER))
    e = _noise(layout, rng, noise_codes)
    return _fourier_sum(x, omega, phi, amp, layout, e=e, omega_e=omega_e)


def nn(x, layout: Layout, rng, noise_codes):
    """A random one-hidden-layer network with a noise input:
    ``y = sum_h w_h tanh(g (u_h x + r_h sigma e) + b_h)``, H = 16 units,
    u, r, b, w ~ N(0, 1), gain g ~ logU[0.5, 3]."""
    n = layout.n_pairs
    gain = np.exp(rng.uniform(np.log(0.5), np.log(3.0), size=n))[:, None]
    u = rng.standard_normal((n, N_HIDDEN)) * gain
    r = rng.standard_normal((n, N_HIDDEN)) * gain
    b = rng.standard_normal((n, N_HIDDEN))
    w = rng.standard_normal((n, N_HIDDEN))
    e = _noise(layout, rng, noise_codes)
    out = np.zeros(layout.shape, dtype=DTYPE)
    for h in range(N_HIDDEN):  # one unit at a time: small temporaries, fixed summation order
        z = x * layout.expand(u[:, h])
        z += e * layout.expand(r[:, h])
        z += layout.expand(b[:, h])
        np.tanh(z, out=z)
        z *= layout.expand(w[:, h])
        out += z
    return out


def post_nonlinear(x, layout: Layout, rng, noise_codes):
    """Post-nonlinear model: ``y = g(t)``, ``t = std(std(f(x)) + sigma e)``, f a random
    spline (as in ``spline``) and g an invertible distortion
    ``g(t) = t (1 + t^2)^((p - 1) / 2)``, p ~ logU[1/3, 3] (compresses the tails when
    p < 1, stretches them when p > 1; smooth and strictly increasing)."""
    f = standardise(layout, random_splines(x, layout, rng)[0])
    t = standardise(layout, _add_noise(f, layout, rng, noise_codes))
    p = np.exp(rng.uniform(np.log(1.0 / 3.0), np.log(3.0), size=layout.n_pairs))
    return t * (1.0 + t * t) ** layout.expand(0.5 * (p - 1.0))


def multiplicative(x, layout: Layout, rng, noise_codes):
    """Multiplicative noise: ``y = (std(f(x)) + c) exp(sigma e)``, f a random spline,
    offset c ~ U[0, 3] (c near 0: f changes sign and the noise vanishes there)."""
    n = layout.n_pairs
    f = standardise(layout, random_splines(x, layout, rng)[0])
    c = rng.uniform(0.0, 3.0, size=n)
    e = _noise(layout, rng, noise_codes)
    return (f + layout.expand(c)) * np.exp(e)


def location_scale(x, layout: Layout, rng, noise_codes):
    """Location-scale (heteroscedastic) noise: ``y = std(f(x)) + exp(beta std(s(x))) sigma e``,
    f and s random splines, beta ~ U[0.2, 1]."""
    n = layout.n_pairs
    f, s = (standardise(layout, g) for g in random_splines(x, layout, rng, 2))
    beta = rng.uniform(0.2, 1.0, size=n)
    scale = np.exp(layout.expand(beta) * s) * layout.expand(noise_scale(n, rng))
    return f + scale * unit_noise(layout, noise_codes, rng)


def _noise(layout: Layout, rng, noise_codes):
    """sigma e: unit-variance noise of the pair's shape times sigma ~ logU[0.02, 1]."""
    e = unit_noise(layout, noise_codes, rng)
    return layout.expand(noise_scale(layout.n_pairs, rng)) * e


def _add_noise(f, layout: Layout, rng, noise_codes):
    return f + _noise(layout, rng, noise_codes)


MECHANISM_FUNCTIONS = {
    "spline": spline,
    "linear": linear,
    "polynomial": polynomial,
    "sigmoid_additive": sigmoid_additive,
    "sigmoid_mixed": sigmoid_mixed,
    "gp_additive": gp_additive,
    "gp_mixed": gp_mixed,
    "nn": nn,
    "post_nonlinear": post_nonlinear,
    "multiplicative": multiplicative,
    "location_scale": location_scale,
}
MECHANISMS = tuple(MECHANISM_FUNCTIONS)  # fixed order: codes index into it

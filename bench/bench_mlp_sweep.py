"""λ-batched network training: a loop over λ, jax.jit(jax.vmap(fit)) and rj.sweep.

For each Equinox MLP (tanh, with or without a LayerNorm after the first layer) on the
first m rows of the embedded digits data (m up to 1797; 64 pixels, 10 classes), every λ
of a G-point grid is trained by the same ``fit(lam, params0, X, labels)``: ``steps``
full-batch Adam steps (learning rate cosine-decayed to 0) on mean softmax cross-entropy
+ λ/(2m)‖W‖² (``rj.optimizers.adam_l2``: the L2 gradient enters Adam; biases and
LayerNorm parameters are not penalized), from the same initial parameters, in float32.
Three ways to run the grid:

* loop: a Python loop over λ of ``jax.jit(fit)`` (λ a traced argument: compiled once;
  the calls are dispatched asynchronously, the timer stops when all are done);
* jit(vmap): ``jax.jit(jax.vmap(fit))`` over the grid, one program;
* rj.sweep: ``rj.sweep(fit, lams, params0, X, labels)`` with its default
  ``batch_size=None`` (the table says how many λ it ran at once).

The three variants are checked to compute the same solutions before the times are
compared: the same models trained for 30 steps in float64 must give parameters equal to
the loop's to ‖θ − θ_loop‖/‖θ_loop‖ ≤ 1e-9 for every λ. The timed float32 runs are
compared too (the table gives both): there rounding differs between the variants (other
kernels, other summation orders) and 300 Adam steps amplify it along directions the loss
hardly sees (Adam's steps have size η whatever the gradient's; LayerNorm makes the loss
invariant to the scale of the first layer's rows), so they only have to reach the same
training loss to 1e-2. Times are the best of 3–7 warm calls taken round-robin over the
variants (this machine is shared: a change of load then reaches all three
alike); "≈ compile" is the first call's time minus that. The achieved FLOP rate counts
the GEMMs of a forward and backward pass, 6·m·Σ(in·out) FLOPs per step per λ (LayerNorm,
activations and Adam are O(m·width) or O(parameters) and left out), against this
machine's float32 GEMM rate (the best of three ``gemm_rate("float32")``, 1024³ products).

    python bench/bench_mlp_sweep.py            # 8 models, G = 16, 300 steps (~15 min)
    python bench/bench_mlp_sweep.py --quick    # 2 models, 60 steps (< 1 min)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from _benchcommon import gemm_rate, machine_line, record

import regjax as rj
from regjax import _sharding

LEARNING_RATE = 1e-2  # cosine-decayed to 0 over the steps
ACTIVATION = jax.nn.tanh
CHECK_STEPS = 30  # the float64 agreement check's steps
AGREE_FLOAT64 = 1e-9  # largest ‖θ − θ_loop‖/‖θ_loop‖ over λ there
AGREE_LOSS = 1e-2  # largest |J(θ) − J(θ_loop)| (float32 training loss) over λ, a sanity check


class MLP(eqx.Module):
    """tanh MLP; ``norm`` puts a LayerNorm after the first layer (before its tanh)."""

    layers: tuple[eqx.nn.Linear, ...]
    norm: eqx.nn.LayerNorm | None

    def __init__(self, sizes: tuple[int, ...], norm: bool, key: jax.Array) -> None:
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(
            eqx.nn.Linear(a, b, key=k) for a, b, k in zip(sizes[:-1], sizes[1:], keys)
        )
        self.norm = eqx.nn.LayerNorm(sizes[1]) if norm else None

    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.layers[0](x)
        x = ACTIVATION(self.norm(x) if self.norm is not None else x)
        for layer in self.layers[1:-1]:
            x = ACTIVATION(layer(x))
        return self.layers[-1](x)


def make_fit(static: Any, steps: int, m: int) -> Callable[..., Any]:
    """``fit(lam, params0, X, labels) -> params`` after ``steps`` Adam + L2 steps."""

    def loss(params: Any, X: jax.Array, labels: jax.Array) -> jax.Array:
        logits = jax.vmap(eqx.combine(params, static))(X)
        return rj.losses.softmax_cross_entropy(logits, labels)

    def fit(lam: jax.Array, params0: Any, X: jax.Array, labels: jax.Array) -> Any:
        opt = rj.optimizers.adam_l2(optax.cosine_decay_schedule(LEARNING_RATE, steps), lam, m=m)

        def step(carry: Any, _: None) -> tuple[Any, None]:
            params, state = carry
            grads = jax.grad(loss)(params, X, labels)
            updates, state = opt.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), None

        (params, _), _ = jax.lax.scan(step, (params0, opt.init(params0)), None, length=steps)
        return params

    fit.loss = loss  # type: ignore[attr-defined]
    return fit


def disagreement(
    params: Any, reference: Any, loss: Callable[..., jax.Array], X: jax.Array, labels: jax.Array
) -> tuple[float, float]:
    """(max over λ of ‖θ − θ_ref‖/‖θ_ref‖, max over λ of |J(θ) − J(θ_ref)|)."""

    def flat(tree: Any) -> jax.Array:
        return jnp.concatenate(
            [leaf.reshape(leaf.shape[0], -1) for leaf in jax.tree.leaves(tree)], 1
        )

    diff = jnp.linalg.norm(flat(params) - flat(reference), axis=1)
    rel = float(jnp.max(diff / jnp.linalg.norm(flat(reference), axis=1)))
    return rel, float(jnp.max(jnp.abs(loss(params, X, labels) - loss(reference, X, labels))))


def interleaved(
    variants: dict[str, Callable[[], Any]], results: dict[str, Any], repeat: int
) -> tuple[dict[str, float], dict[str, float]]:
    """(first call's seconds, compile included; best of ``repeat`` warm calls) per variant.

    The warm calls go round-robin over the variants (rotating the order), so a change in
    the load of this shared machine reaches every variant alike (``best_of`` times one
    variant's calls one after another)."""
    first, best = {}, {name: float("inf") for name in variants}
    for name, fn in variants.items():
        start = time.perf_counter()
        results[name] = jax.block_until_ready(fn())
        first[name] = time.perf_counter() - start
    names = list(variants)
    for round_ in range(repeat):  # each round in another order: no variant always follows
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            start = time.perf_counter()
            jax.block_until_ready(variants[name]())
            best[name] = min(best[name], time.perf_counter() - start)
    return first, best


def label(sizes: tuple[int, ...], norm: bool, rows: int) -> str:
    parts = [str(s) for s in sizes]
    if norm:
        parts.insert(2, "LayerNorm")
    return f"{'-'.join(parts)}, m = {rows}"


def setup(
    sizes: tuple[int, ...], norm: bool, rows: int, G: int, steps: int, dtype: Any
) -> tuple[Any, dict[str, Callable[[], Any]], tuple[Any, ...]]:
    """(fit, the three variants, (lams, params0, X, labels)) for one model in ``dtype``."""
    ds = rj.data.load("digits")
    X, labels = jnp.asarray(ds.X[:rows], dtype), jnp.asarray(ds.y[:rows], jnp.int32)
    model = MLP(sizes, norm, jax.random.key(0))
    params0, static = eqx.partition(model, eqx.is_array)
    params0 = jax.tree.map(lambda leaf: leaf.astype(dtype), params0)
    fit = make_fit(static, steps, rows)
    lams = rows * jnp.logspace(-5, -1, G, dtype=dtype)  # λ/m from 1e-5 to 0.1
    host_lams = np.asarray(lams)
    single = jax.jit(fit)
    batched = jax.jit(jax.vmap(fit, in_axes=(0, None, None, None)))

    def stack(outs: list[Any]) -> Any:
        return jax.tree.map(lambda *leaves: jnp.stack(leaves), *outs)

    variants: dict[str, Callable[[], Any]] = {
        "loop of jit(fit)": lambda: stack([single(lam, params0, X, labels) for lam in host_lams]),
        "jit(vmap(fit))": lambda: batched(lams, params0, X, labels),
        "rj.sweep": lambda: rj.sweep(fit, lams, params0, X, labels),
    }
    return fit, variants, (lams, params0, X, labels)


def same_solution(sizes: tuple[int, ...], norm: bool, rows: int, G: int) -> dict[str, float]:
    """The variants compute the same thing: per variant, max over λ of
    ‖θ − θ_loop‖/‖θ_loop‖ after CHECK_STEPS steps in float64 (where rounding is too small
    to be amplified as it is in float32 over hundreds of Adam steps)."""
    with jax.enable_x64(True):
        fit, variants, (_, _, X, labels) = setup(sizes, norm, rows, G, CHECK_STEPS, jnp.float64)
        results = {name: jax.block_until_ready(fn()) for name, fn in variants.items()}
        loss = jax.vmap(fit.loss, in_axes=(0, None, None))
        reference = results["loop of jit(fit)"]
        return {
            name: disagreement(out, reference, loss, X, labels)[0] for name, out in results.items()
        }


def run_model(
    sizes: tuple[int, ...], norm: bool, rows: int, G: int, steps: int, peak: float
) -> list[str]:
    """One model's table rows: the three variants (agreement checked) and the limit."""
    check = same_solution(sizes, norm, rows, G)
    if max(check.values()) > AGREE_FLOAT64:
        raise AssertionError(f"the variants differ in float64: {check}")
    fit, variants, (lams, params0, X, labels) = setup(sizes, norm, rows, G, steps, jnp.float32)
    flops = 6 * rows * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * steps * G
    results: dict[str, Any] = {}
    first, times = interleaved(variants, results, 7 if flops < 1e11 else 5 if flops < 5e11 else 3)
    reference = results["loop of jit(fit)"]
    loss = jax.jit(jax.vmap(fit.loss, in_axes=(0, None, None)))
    lanes = _sharding.lanes_at_once(fit, jax.devices()[0].platform, lams, (params0, X, labels))
    lines = []
    for name, seconds in times.items():
        rel, loss_diff = disagreement(results[name], reference, loss, X, labels)
        if loss_diff > AGREE_LOSS:
            raise AssertionError(f"{name}'s training losses differ from the loop's: {loss_diff}")
        rate = flops / seconds
        note = f" ({lanes} λ at once)" if name == "rj.sweep" else ""
        lines.append(
            f"| {label(sizes, norm, rows)} | {name}{note} | {seconds:.3f} | "
            f"{times['loop of jit(fit)'] / seconds:.2f} | {rate / 1e9:.1f} | {rate / peak:.1%} | "
            f"{check[name]:.0e} | {rel:.1e} | {loss_diff:.1e} | {first[name] - seconds:.1f} |"
        )
        print(lines[-1], flush=True)
    lines.append(
        f"| | physical limit: {flops:.3g} FLOPs at the float32 GEMM rate | "
        f"{flops / peak:.3f} | | {peak / 1e9:.1f} | 100% | | | | |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    G, m = 16, 1797
    if args.quick:
        models = [((64, 8, 10), False, 32), ((64, 64, 10), True, m)]
        steps = 60
    else:
        models = [
            ((64, 8, 10), False, 32),
            ((64, 8, 10), True, 32),
            ((64, 16, 10), True, 512),
            ((64, 64, 10), False, m),
            ((64, 96, 10), False, m),
            ((64, 256, 10), False, m),
            ((64, 128, 10), True, m),
            ((64, 512, 10), True, m),
        ]
        steps = 300
    header = machine_line(args.quick)
    start = time.perf_counter()
    peak = max(gemm_rate("float32") for _ in range(3))  # the machine's, not a loaded moment
    print(header, flush=True)
    lines = [
        header,
        "",
        f"**digits (first m rows), G = {G} λ with λ/m log-spaced over [1e-5, 0.1], {steps} "
        f"full-batch Adam + L2 steps (η = {LEARNING_RATE} cosine-decayed), float32; "
        f"measured float32 GEMM rate {peak / 1e9:.1f} GFLOP/s**",
        "",
        "| model | variant | time (s) | × loop | GFLOP/s | of GEMM peak | "
        f"float64, {CHECK_STEPS} steps: max ‖Δθ‖/‖θ‖ | float32: max ‖Δθ‖/‖θ‖ | "
        "float32: max abs ΔJ | ≈ compile (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for sizes, norm, rows in models:
        lines += run_model(sizes, norm, rows, G, steps, peak)
    lines += ["", f"Whole run {time.perf_counter() - start:.0f} s."]
    text = "\n".join(lines)
    print()
    print(text)
    if not args.no_record:
        record("bench_mlp_sweep", "λ-batched network training (`rj.sweep`)", text)


if __name__ == "__main__":
    main()

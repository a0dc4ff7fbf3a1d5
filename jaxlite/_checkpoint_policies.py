"""`jaxlite.checkpoint_policies`: JAX's names of the rematerialization policies.

A policy is a predicate `policy(prim, *avals, **params) -> bool`: may checkpoint save the output
of this equation for the backward pass? jaxlite's `checkpoint` runs two of them: `nothing_saveable`
(its only mode: save the inputs, recompute the rest) and `everything_saveable` (save everything:
plain differentiation, no recomputation). The others are real predicates, but `checkpoint`
rejects them with an error naming them (saving some residuals needs a policy-driven partial
evaluation jaxlite does not have).
"""

from __future__ import annotations

import types
from dataclasses import dataclass

from jaxlite.primitives import dot_general_p


def everything_saveable(*_, **__) -> bool:
    """Save every intermediate: no rematerialization at all."""
    return True


def nothing_saveable(*_, **__) -> bool:
    """Save nothing but the inputs: recompute every intermediate in the backward pass."""
    return False


@dataclass(frozen=True)
class _DotsSaveable:
    only_if_no_batch_dims: bool

    def __call__(self, prim, *_, **params) -> bool:
        if prim is not dot_general_p:
            return False
        if not self.only_if_no_batch_dims:
            return True
        (_, _), (lhs_b, rhs_b) = params["dimension_numbers"]
        return not lhs_b and not rhs_b


dots_saveable = checkpoint_dots = _DotsSaveable(False)
dots_with_no_batch_dims_saveable = checkpoint_dots_with_no_batch_dims = _DotsSaveable(True)


def save_from_both_policies(policy_1, policy_2):
    """Saves what either policy saves."""

    def policy(prim, *args, **params) -> bool:
        out1, out2 = policy_1(prim, *args, **params), policy_2(prim, *args, **params)
        if not (isinstance(out1, bool) and isinstance(out2, bool)):
            raise ValueError(f"the policies should return booleans, got {out1} and {out2}")
        return out1 or out2

    return policy


SUPPORTED = (None, nothing_saveable, everything_saveable)

checkpoint_policies = types.SimpleNamespace(
    everything_saveable=everything_saveable,
    nothing_saveable=nothing_saveable,
    dots_saveable=dots_saveable,
    checkpoint_dots=checkpoint_dots,
    dots_with_no_batch_dims_saveable=dots_with_no_batch_dims_saveable,
    checkpoint_dots_with_no_batch_dims=checkpoint_dots_with_no_batch_dims,
    save_from_both_policies=save_from_both_policies,
)

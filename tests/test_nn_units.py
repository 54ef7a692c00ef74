"""Arithmetic units: shapes, weight ranges, gradients, numerical safety, and learning to extrapolate."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from nalu_rl.nn import (
    NAC,
    NALU,
    NAU,
    NMU,
    UNITS,
    Unit,
    clip_weights_,
    get_unit,
    register,
    regularization_loss,
    sparsity_weight,
)

ALL_UNITS = [NAC, NALU, NAU, NMU]


# --- registry and common interface -------------------------------------------------------------


def test_registry_looks_units_up_by_name_case_insensitively():
    assert {name: UNITS[name] for name in ("nac", "nalu", "nau", "nmu")} == {
        "nac": NAC, "nalu": NALU, "nau": NAU, "nmu": NMU,
    }
    assert get_unit("NAC") is NAC and get_unit("nmu") is NMU
    with pytest.raises(ValueError, match="nac, nalu, nau, nmu"):
        get_unit("lstm")


def test_register_adds_a_unit_and_refuses_to_shadow_one():
    class Doubler(Unit):
        def __init__(self, in_features: int, out_features: int) -> None:
            super().__init__(in_features, out_features)
            self.inner = NAU(in_features, out_features)

        def forward(self, x):
            return 2 * self.inner(x)

    try:
        assert register("doubler")(Doubler) is Doubler
        assert get_unit("Doubler") is Doubler
        with pytest.raises(ValueError, match="already registered"):
            register("nac")(Doubler)
    finally:
        UNITS.pop("doubler", None)
    assert get_unit("nac") is NAC


def test_register_refuses_what_is_not_a_unit():
    class Linear(nn.Linear):
        def regularization_loss(self):
            return self.weight.new_zeros(())

    for not_a_unit in (Linear, nn.Linear, lambda i, o: NAU(i, o), NAU(2, 1)):
        with pytest.raises(TypeError, match="must subclass nalu_rl.nn.Unit"):
            register("not_a_unit")(not_a_unit)
    assert "not_a_unit" not in UNITS


def test_every_registered_unit_is_a_unit():
    assert all(issubclass(cls, Unit) for cls in UNITS.values())
    assert all(isinstance(cls(3, 2), Unit) for cls in ALL_UNITS)


def test_unit_defaults_are_a_zero_loss_on_the_units_dtype_and_no_clipping():
    class Identity(Unit):
        def forward(self, x):
            return x

    empty = Identity(2, 2)
    assert empty.regularization_loss().item() == 0.0 and empty.regularization_loss().shape == ()
    empty.clip_weights_()
    nac = NAC(3, 2).double()
    assert nac.regularization_loss().dtype == torch.float64
    with torch.no_grad():
        nac.W_hat.fill_(50.0)
    nac.clip_weights_()
    assert (nac.W_hat == 50.0).all()  # unbounded parameters: nothing to clip
    assert repr(NAU(3, 2)) == "NAU(in_features=3, out_features=2)"
    assert NALU(3, 2, tied=False).extra_repr() == "in_features=3, out_features=2, eps=1e-07, tied=False, mul_sign=False"


class _DuckTyped(nn.Module):
    """Not a unit, though it has both hooks: the model-wide operations must leave it alone."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)

    def regularization_loss(self):
        raise AssertionError("regularization_loss called on a module that is not a Unit")

    def clip_weights_(self):
        raise AssertionError("clip_weights_ called on a module that is not a Unit")


class _Holder(nn.Module):
    def __init__(self, **children: nn.Module) -> None:
        super().__init__()
        self.children_by_name = nn.ModuleDict(children)


def test_model_wide_operations_reach_nested_units_and_ignore_other_modules():
    nau, nmu = NAU(3, 1), NMU(3, 1)
    model = nn.Sequential(
        _DuckTyped(),
        _Holder(deep=_Holder(unit=nau, other=_DuckTyped()), listed=nn.ModuleList([nn.Tanh(), nmu])),
        NAC(2, 2),
    )
    with torch.no_grad():
        nau.W.copy_(torch.tensor([[-3.0, 0.5, 3.0]]))
        nmu.W.copy_(torch.tensor([[-3.0, 0.25, 3.0]]))
    # clamped weights [-1, 0.5, 1] and [0, 0.25, 1]: 0.5 / 3 + 0.25 / 3
    assert regularization_loss(model).item() == pytest.approx(0.25)
    clip_weights_(model)
    torch.testing.assert_close(nau.W.detach(), torch.tensor([[-1.0, 0.5, 1.0]]))
    torch.testing.assert_close(nmu.W.detach(), torch.tensor([[0.0, 0.25, 1.0]]))
    assert regularization_loss(_DuckTyped()).item() == 0.0
    clip_weights_(_DuckTyped())


@pytest.mark.parametrize("unit_cls", ALL_UNITS)
@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 4, 5)])
def test_units_act_on_the_last_dimension_of_any_rank(unit_cls, shape):
    torch.manual_seed(0)
    unit = unit_cls(5, 3)
    x = torch.rand(shape) + 0.5
    y = unit(x)
    assert y.shape == (*shape[:-1], 3)
    flat = unit(x.reshape(-1, 5)).reshape(y.shape)
    torch.testing.assert_close(y, flat)


@pytest.mark.parametrize("unit_cls", ALL_UNITS)
def test_regularization_loss_is_a_scalar_zero_where_the_unit_has_none(unit_cls):
    unit = unit_cls(6, 2)
    reg = unit.regularization_loss()
    assert isinstance(reg, torch.Tensor) and reg.shape == ()
    if unit_cls in (NAC, NALU):
        assert reg.item() == 0.0
    else:
        assert reg.item() > 0.05  # the paper's initialisations are far from sparse


# --- weight ranges and initialisation -----------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e4, 1e4), min_size=6, max_size=6),
    st.lists(st.floats(-1e4, 1e4), min_size=6, max_size=6),
)
def test_nac_weight_stays_in_unit_interval_for_any_parameters(w_hat, m_hat):
    nac = NAC(3, 2)
    with torch.no_grad():
        nac.W_hat.copy_(torch.tensor(w_hat).view(2, 3))
        nac.M_hat.copy_(torch.tensor(m_hat).view(2, 3))
    w = nac.weight
    assert torch.isfinite(w).all()
    assert w.min() >= -1.0 and w.max() <= 1.0


@pytest.mark.parametrize("unit_cls, lo, hi", [(NAU, -1.0, 1.0), (NMU, 0.0, 1.0)])
def test_nau_nmu_clamp_their_weights_and_clip_the_parameter(unit_cls, lo, hi):
    unit = unit_cls(4, 1)
    with torch.no_grad():
        unit.W.copy_(torch.tensor([[-3.0, -0.5, 0.5, 3.0]]))
    expected = torch.tensor([[-3.0, -0.5, 0.5, 3.0]]).clamp(lo, hi)
    torch.testing.assert_close(unit.weight, expected)
    x = torch.tensor([[2.0, 3.0, 5.0, 7.0]])
    if unit_cls is NAU:
        torch.testing.assert_close(unit(x), x @ expected.T)
    else:
        torch.testing.assert_close(unit(x), (x * expected + 1 - expected).prod(-1, keepdim=True))
    clip_weights_(nn.Sequential(unit))
    torch.testing.assert_close(unit.W.detach(), expected)


def test_initialisations_follow_the_papers():
    torch.manual_seed(0)
    nau = NAU(100, 2)
    r = min(0.5, math.sqrt(3.0 * 2.0 / 102))
    assert nau.W.abs().max() <= r and nau.W.abs().max() > 0.9 * r
    nmu = NMU(100, 2)
    assert nmu.W.min() >= 0.25 and nmu.W.max() <= 0.75
    # NAC: Glorot variance for the effective weight W, not for W-hat and M-hat
    nac = NAC(300, 300)
    assert nac.weight.var().item() == pytest.approx(2.0 / 600, rel=0.05)
    assert nac.weight.mean().abs().item() < 0.005


def test_sparsity_weight_warms_up_linearly():
    assert sparsity_weight(0, 100, 200) == 0.0
    assert sparsity_weight(100, 100, 200) == 0.0
    assert sparsity_weight(150, 100, 200) == pytest.approx(5.0)
    assert sparsity_weight(200, 100, 200) == 10.0
    assert sparsity_weight(10**6, 100, 200, scale=2.0) == 2.0


def test_sparsity_regularizer_is_zero_exactly_at_sparse_weights():
    nau, nmu = NAU(3, 1), NMU(3, 1)
    with torch.no_grad():
        nau.W.copy_(torch.tensor([[-1.0, 0.0, 1.0]]))
        nmu.W.copy_(torch.tensor([[0.0, 1.0, 1.0]]))
    assert nau.regularization_loss().item() == 0.0
    assert nmu.regularization_loss().item() == 0.0
    with torch.no_grad():
        nau.W.fill_(0.5)
        nmu.W.fill_(0.5)
    assert nau.regularization_loss().item() == pytest.approx(0.5)
    assert regularization_loss(nn.Sequential(nau, nn.Tanh(), nmu)).item() == pytest.approx(1.0)
    assert regularization_loss(nn.Linear(2, 2)).item() == 0.0


# --- gradients ------------------------------------------------------------------------------------


def test_nac_trains_both_w_hat_and_m_hat_and_recomputes_w_every_forward():
    """Regression: a W computed once at construction makes W-hat and M-hat dead parameters."""
    torch.manual_seed(0)
    nac = NAC(4, 3)
    x = torch.rand(8, 4) + 0.5
    nac(x).pow(2).sum().backward()
    for p in (nac.W_hat, nac.M_hat):
        assert p.grad is not None and p.grad.abs().min() > 0
    before_w, before_y = nac.weight.detach().clone(), nac(x).detach().clone()
    torch.optim.SGD(nac.parameters(), lr=0.1).step()
    assert (nac.weight.detach() - before_w).abs().min() > 0
    assert not torch.allclose(nac(x), before_y)


@pytest.mark.parametrize(
    "make",
    [
        lambda: NAC(4, 3),
        lambda: NAU(4, 3),
        lambda: NMU(4, 3),
        lambda: NALU(4, 3),
        lambda: NALU(4, 3, tied=False),
        lambda: NALU(4, 3, mul_sign=True),
    ],
    ids=["nac", "nau", "nmu", "nalu", "nalu-untied", "nalu-signed"],
)
def test_gradcheck(make):
    torch.manual_seed(0)
    unit = make().double()
    x = (torch.rand(5, 4, dtype=torch.float64) + 0.2) * torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    x.requires_grad_(True)
    params = tuple(unit.parameters())

    def f(x, *ps):
        state = dict(zip([n for n, _ in unit.named_parameters()], ps))
        return torch.func.functional_call(unit, state, (x,))

    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-5)


def test_nalu_tied_shares_one_nac_and_untied_has_two():
    assert sum(p.numel() for p in NALU(4, 3).parameters()) == 3 * 12
    assert sum(p.numel() for p in NALU(4, 3, tied=False).parameters()) == 5 * 12


# --- numerical safety -----------------------------------------------------------------------------


def _nalu_multiplier(**opts) -> NALU:
    """A NALU set by hand to W = [1, 1] with its gate shut whenever x1 > 0: y = x0 * x1 there."""
    nalu = NALU(2, 1, **opts)
    with torch.no_grad():
        nalu.nac.W_hat.fill_(20.0)
        nalu.nac.M_hat.fill_(40.0)
        nalu.G.copy_(torch.tensor([[0.0, -100.0]]))
    return nalu


def test_nalu_multiplies_and_drops_the_sign_as_in_the_paper_unless_asked():
    paper, signed = _nalu_multiplier(), _nalu_multiplier(mul_sign=True)
    x = torch.tensor([[3.0, 4.0], [-3.0, 4.0], [-0.5, 4.0], [0.0, 4.0]])
    torch.testing.assert_close(paper(x).squeeze(-1), torch.tensor([12.0, 12.0, 2.0, 0.0]), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(signed(x).squeeze(-1), torch.tensor([12.0, -12.0, -2.0, 0.0]), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "make",
    [NAC, NAU, NMU, NALU, lambda i, o: NALU(i, o, mul_sign=True)],
    ids=["nac", "nau", "nmu", "nalu", "nalu-signed"],
)
def test_outputs_and_gradients_are_finite_for_zero_tiny_negative_and_large_inputs(make):
    torch.manual_seed(0)
    unit = make(6, 3)
    units = [unit]
    if isinstance(unit, NALU):  # also a saturated W = [1, 1] meeting inputs near 0 and huge ones
        units.append(_nalu_multiplier(mul_sign=unit.mul_sign))
    for u in units:
        n = u.in_features
        rows = torch.tensor([
            [0.0] * 6, [1e-30, -1e-30, 1e-38, 0.0, 1e-7, -1e-7], [-3.0, -1e-3, 2.0, -5.0, 0.0, 7.0],
            [1e6, 1e-6, -1e6, 1e-20, 3.0, -3.0],
        ])[:, :n]
        x = rows.clone().requires_grad_(True)
        y = u(x)
        assert torch.isfinite(y).all(), (u, y)
        y.sum().backward()
        assert torch.isfinite(x.grad).all()
        for name, p in u.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name


# --- learning and extrapolating -------------------------------------------------------------------


def _train(unit: nn.Module, op, lo: float, hi: float, steps: int, lr: float, sparse: bool = False) -> None:
    """Adam on fresh batches of x ~ U[lo, hi]^2, target op(x0, x1); sparse adds the NAU/NMU schedule."""
    optimizer = torch.optim.Adam(unit.parameters(), lr=lr, betas=(0.9, 0.9))
    for step in range(steps):
        x = torch.empty(64, 2).uniform_(lo, hi)
        loss = nn.functional.mse_loss(unit(x).squeeze(-1), op(x[:, 0], x[:, 1]))
        if sparse:
            loss = loss + sparsity_weight(step, steps // 3, 2 * steps // 3, 1.0) * unit.regularization_loss()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        clip_weights_(unit)


def _max_relative_error(unit: nn.Module, op, lo: float, hi: float) -> float:
    x = torch.empty(2000, 2).uniform_(lo, hi, generator=torch.Generator().manual_seed(1))
    t = op(x[:, 0], x[:, 1])
    with torch.no_grad():
        return ((unit(x).squeeze(-1) - t).abs() / t.abs()).max().item()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nac_learns_addition_on_0_10_and_extrapolates_to_100_1000(seed):
    torch.manual_seed(seed)
    nac = NAC(2, 1)
    _train(nac, torch.add, 0.0, 10.0, steps=300, lr=0.1)
    assert _max_relative_error(nac, torch.add, 100.0, 1000.0) < 0.01


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nau_learns_subtraction_exactly(seed):
    torch.manual_seed(seed)
    nau = NAU(2, 1)
    _train(nau, torch.sub, 0.0, 10.0, steps=200, lr=0.05, sparse=True)
    torch.testing.assert_close(nau.weight.detach(), torch.tensor([[1.0, -1.0]]))
    # a - b can be near 0, so measure the error relative to the operands' scale
    x = torch.empty(2000, 2).uniform_(100.0, 1000.0, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert ((nau(x).squeeze(-1) - (x[:, 0] - x[:, 1])).abs() / x.abs().max(-1).values).max() < 1e-5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nmu_learns_multiplication_on_1_2_and_extrapolates_to_10_100(seed):
    torch.manual_seed(seed)
    nmu = NMU(2, 1)
    _train(nmu, torch.mul, 1.0, 2.0, steps=200, lr=0.05, sparse=True)
    assert _max_relative_error(nmu, torch.mul, 10.0, 100.0) < 1e-5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nalu_learns_multiplication_on_1_10_and_extrapolates_to_10_100(seed):
    torch.manual_seed(seed)
    nalu = NALU(2, 1)
    _train(nalu, torch.mul, 1.0, 10.0, steps=500, lr=0.1)
    assert _max_relative_error(nalu, torch.mul, 10.0, 100.0) < 0.01

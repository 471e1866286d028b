"""Self-checks for chapter 07 (Conv-TasNet): ``checks.ex07_tcn_block(MyTCNBlock)`` (the "implement it"
assignment) and ``checks.ex07_3(ReLUConvTasNet)``.

Each check builds the library's module with the same hyper-parameters
(:class:`mtass_lite.models.common.TCNBlock`, :class:`mtass_lite.models.conv_tasnet.ConvTasNet`), gives
the student's module the library's weights, runs both on the same random input and names what differs.
"""
from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from mtass_lite.models.common import TCNBlock
from mtass_lite.models.conv_tasnet import ConvTasNet

from ._core import verdict

# Two settings: distinct widths (so that every weight has a telling shape), an odd length, and the
# default skip width (skip_channels=None -> io_channels) in the second.
_BLOCK_SETTINGS = [dict(io_channels=6, hidden_channels=10, kernel_size=3, dilation=4, skip_channels=5),
                   dict(io_channels=7, hidden_channels=9, kernel_size=5, dilation=2, skip_channels=None)]
_T = 37
_ORDER = "1x1 conv, PReLU, norm, depthwise conv, PReLU, norm, residual 1x1 conv, skip 1x1 conv"


def _close(a, b) -> bool:
    return (isinstance(a, Tensor) and isinstance(b, Tensor) and tuple(a.shape) == tuple(b.shape)
            and torch.allclose(a, b, rtol=1e-4, atol=1e-5))


def _reference_block(setting: dict, seed: int) -> TCNBlock:
    """The library's block with non-trivial PReLU slopes and norm gains/biases (defaults 0.25, 1, 0 would
    hide a missing or misplaced layer)."""
    torch.manual_seed(seed)
    block = TCNBlock(**setting)
    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for i in (1, 2, 4, 5):  # PReLU, gLN, PReLU, gLN
            for p in block.conv_layers[i].parameters():
                p.copy_(torch.rand(p.shape, generator=g) * 1.5 - 0.5)
    return block.eval()


def _copy_weights(ref: nn.Module, student: nn.Module) -> list[str]:
    """Give ``student`` the weights of ``ref``; return the problems that prevent it (none when it worked).

    Same parameter names as the library's block (``conv_layers.0.weight`` ..., ``res_out``, ``skip_out``):
    ``load_state_dict``. Otherwise each library tensor, in the library's order, goes to the student's next
    unused parameter of the same shape (``named_parameters()`` order, i.e. the order of creation in
    ``__init__``)."""
    ref_params = list(ref.named_parameters())
    stu_params = list(student.named_parameters())
    if {k for k, _ in ref_params} == {k for k, _ in stu_params}:
        try:
            student.load_state_dict(ref.state_dict(), strict=False)
            return []
        except RuntimeError as err:  # same names, other shapes: fall through to the diagnosis below
            del err
    problems = []
    shapes = {}
    for _, p in stu_params:
        shapes.setdefault(tuple(p.shape), []).append(p)
    io, hidden = ref.conv_layers[0].in_channels, ref.conv_layers[0].out_channels
    sc, P = ref.skip_out.out_channels, ref.conv_layers[3].kernel_size[0]
    role = {"conv_layers.0.weight": "the first 1x1 conv (B -> H)", "conv_layers.0.bias": "the first 1x1 conv's bias",
            "conv_layers.1.weight": "the first PReLU", "conv_layers.2.weight": "the first norm's gain",
            "conv_layers.2.bias": "the first norm's bias",
            "conv_layers.3.weight": f"the depthwise conv (weight [H, 1, P] = {[hidden, 1, P]}, groups=H)",
            "conv_layers.3.bias": "the depthwise conv's bias", "conv_layers.4.weight": "the second PReLU",
            "conv_layers.5.weight": "the second norm's gain", "conv_layers.5.bias": "the second norm's bias",
            "res_out.weight": f"the residual 1x1 conv (H -> B, weight {[io, hidden, 1]})",
            "res_out.bias": "the residual conv's bias",
            "skip_out.weight": f"the skip 1x1 conv (H -> Sc, weight {[sc, hidden, 1]})",
            "skip_out.bias": "the skip conv's bias"}
    pairs, missing = [], []
    for name, p in ref_params:
        pool = shapes.get(tuple(p.shape), [])
        if pool:
            pairs.append((pool.pop(0), p))
        else:
            missing.append(name)
    extra = [p for pool in shapes.values() for p in pool]
    if missing:
        hints = []
        if any(tuple(p.shape) == (hidden, hidden, P) for p in extra):
            hints.append(f"a full conv H -> H (weight {[hidden, hidden, P]}) where the block has a depthwise one "
                         f"(groups=H, weight {[hidden, 1, P]})")
        if any(tuple(p.shape) == (hidden,) for p in extra) and "conv_layers.1.weight" in missing:
            hints.append("PReLU with one slope per channel (nn.PReLU(H)); the library's PReLU has a single slope "
                         "(nn.PReLU())")
        if any(len(p.shape) == 3 and p.shape[0] == 1 and p.shape[2] == 1 for p in extra):
            hints.append("norm parameters of shape [1, H, 1] (cLN); the block uses gLN, nn.GroupNorm(1, H)")
        n_vec = sum(tuple(p.shape) == (hidden,) for _, p in ref_params)  # conv biases + norm gains/biases
        ref_shapes = {k: tuple(p.shape) for k, p in ref_params}
        short_vec = sum(ref_shapes[m] == (hidden,) for m in missing)
        named = [m for m in missing if ref_shapes[m] != (hidden,)]
        for path, what in (("res_out.", "missing residual"), ("skip_out.", "missing skip")):
            if any(m.startswith(path) for m in named):
                problems.append(f"{what}: no parameter for {role[path + 'weight']}")
                named = [m for m in named if not m.startswith(path)]
        if named:
            problems.append("no parameter for: " + "; ".join(dict.fromkeys(role.get(m, m) for m in named)))
        if short_vec == 4:
            problems.append(f"norm missing: 4 of the {n_vec} tensors of shape [H] are absent (each gLN has a gain "
                            f"and a bias of shape [H])")
        elif short_vec == 2:
            problems.append(f"one norm missing, or two convs without bias: 2 of the {n_vec} tensors of shape [H] "
                            f"are absent (each gLN has a gain and a bias, the 1x1 and depthwise convs a bias)")
        elif short_vec:
            problems.append(f"{short_vec} of the {n_vec} tensors of shape [H] are absent (the norms' gains and "
                            f"biases, the 1x1 and depthwise convs' biases)")
        if hints:
            problems.append(f"found {'; '.join(hints)}")
    elif extra:
        problems.append(f"{len(extra)} parameter tensor(s) more than the library's block "
                        f"({', '.join(str(list(p.shape)) for p in extra)})")
    if problems:
        return problems
    with torch.no_grad():
        for dst, src in pairs:
            dst.copy_(src)
    return []


def _variants(ref: TCNBlock) -> list[tuple[str, nn.Module]]:
    """Typical mistakes, built from copies of the library block: (what is wrong, wrong block)."""
    out = []
    d, P = ref.conv_layers[3].dilation[0], ref.conv_layers[3].kernel_size[0]

    def variant(fn):
        v = copy.deepcopy(ref)
        fn(v)
        return v

    def no_dilation(v):
        v.conv_layers[3].dilation, v.conv_layers[3].padding = (1,), ((P - 1) // 2,)

    def causal(v):
        conv = v.conv_layers[3]
        conv.padding = (0,)
        v.conv_layers[3] = nn.Sequential(nn.ConstantPad1d((d * (P - 1), 0), 0.0), conv)

    def drop(*indices):
        def fn(v):
            for i in indices:
                v.conv_layers[i] = nn.Identity()
        return fn

    def batchnorm(i):
        def fn(v):
            bn = nn.BatchNorm1d(v.conv_layers[i].num_channels).train()
            bn.weight.data.copy_(v.conv_layers[i].weight)
            bn.bias.data.copy_(v.conv_layers[i].bias)
            v.conv_layers[i] = bn
        return fn

    def swap_prelu_norm(v):
        layers = list(v.conv_layers)
        layers[1], layers[2], layers[4], layers[5] = layers[2], layers[1], layers[5], layers[4]
        v.conv_layers = nn.Sequential(*layers)

    out.append(("dilation not applied: the depthwise conv must use dilation=d (and padding d*(P-1)/2)",
                variant(no_dilation)))
    out.append(("causal padding (d*(P-1) zeros on the left only): the library's block is non-causal, padding "
                "d*(P-1)/2 on both sides", variant(causal)))
    out.append(("first norm missing (gLN after the first PReLU)", variant(drop(2))))
    out.append(("second norm missing (gLN after the second PReLU)", variant(drop(5))))
    out.append(("norm missing: no gLN after either PReLU", variant(drop(2, 5))))
    out.append(("first PReLU missing", variant(drop(1))))
    out.append(("second PReLU missing", variant(drop(4))))
    out.append(("both PReLUs missing", variant(drop(1, 4))))
    out.append(("norm before PReLU: the block applies PReLU, then the norm", variant(swap_prelu_norm)))
    out.append(("BatchNorm (per-channel statistics over the batch) instead of gLN (one mean and variance per "
                "example, over channels and time: nn.GroupNorm(1, H))",
                variant(lambda v: (batchnorm(2)(v), batchnorm(5)(v)))))
    return out


def _as_pair(out) -> tuple[Tensor | None, Tensor | None] | None:
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return out[0], out[1]
    return None


def ex07_tcn_block(cls, strict: bool = False) -> bool:
    """The "implement it" assignment: Conv-TasNet's 1-D conv block.

    ``cls(io_channels, hidden_channels, kernel_size, dilation, skip_channels)`` (keywords;
    ``skip_channels=None`` means ``io_channels``), ``forward(x[B, io, T]) -> (residual[B, io, T],
    skip[B, skip, T])``, as :class:`mtass_lite.models.common.TCNBlock`. The library's weights are copied
    into the student's block (by parameter names when they are the library's, else by shape in the order
    of creation); both blocks then run on the same input.
    """
    name = "ex07_tcn_block (Conv-TasNet 1-D conv block)"
    if not isinstance(cls, type):
        return verdict(name, [f"pass the class itself (not an instance), got {cls!r}"], strict)
    problems: list[str] = []
    g = torch.Generator().manual_seed(0)
    for k, setting in enumerate(_BLOCK_SETTINGS):
        label = (f"io={setting['io_channels']}, H={setting['hidden_channels']}, P={setting['kernel_size']}, "
                 f"d={setting['dilation']}, skip={setting['skip_channels']}")
        ref = _reference_block(setting, seed=k)
        try:
            student = cls(**setting)
        except NotImplementedError:
            raise
        except Exception as err:
            return verdict(name, [f"{cls.__name__}(**{setting}) fails: {type(err).__name__}: {err} (keep "
                                  f"TCNBlock's keyword arguments)"], strict)
        if not isinstance(student, nn.Module):
            return verdict(name, [f"{cls.__name__} is not a torch.nn.Module"], strict)
        copy_problems = _copy_weights(ref, student)
        if copy_problems:
            problems.append(f"[{label}] " + "; ".join(copy_problems))
            break
        x = torch.randn(3, setting["io_channels"], _T, generator=g)
        with torch.no_grad():
            want_res, want_skip = ref(x)
            try:
                out = student(x)
            except Exception as err:
                problems.append(f"[{label}] forward fails: {type(err).__name__}: {err}")
                break
        pair = _as_pair(out)
        if pair is None:
            shape = f" of shape {tuple(out.shape)}" if isinstance(out, Tensor) else ""
            problems.append(f"[{label}] forward must return a pair (residual, skip), got {type(out).__name__}{shape}")
            break
        res, skip = pair
        found = _diagnose(ref, x, res, skip, want_res, want_skip)
        if found:
            problems.append(f"[{label}] " + "; ".join(found))
            break
    return verdict(name, problems, strict)


def _diagnose(ref: TCNBlock, x: Tensor, res, skip, want_res: Tensor, want_skip: Tensor) -> list[str]:
    """What is wrong with the student's (res, skip) against the library's outputs on ``x``."""
    if _close(res, want_res) and _close(skip, want_skip):
        return []
    T = x.shape[-1]
    problems = []
    if res is None:
        problems.append("missing residual: forward returned None for the residual output (the block's "
                        "res_out 1x1 conv, H -> io channels)")
    if skip is None:
        problems.append("missing skip: forward returned None for the skip output (the skip_out 1x1 conv, "
                        "H -> skip channels)")
    if problems:
        return problems
    for what, got in (("residual", res), ("skip", skip)):
        if not isinstance(got, Tensor):
            problems.append(f"the {what} output is {type(got).__name__}, not a tensor")
    if problems:
        return problems
    if res.shape[-1] != T or skip.shape[-1] != T:
        return [f"wrong padding: the outputs have {res.shape[-1]} and {skip.shape[-1]} frames for {T} in (the "
                f"length changes); pad the depthwise conv by dilation*(P-1)/2 on each side"]
    shape_res, shape_skip = tuple(want_res.shape), tuple(want_skip.shape)
    if tuple(res.shape) == shape_skip != shape_res and tuple(skip.shape) == shape_res:
        return ["outputs swapped: forward returns (residual, skip)"]
    for what, got, want in (("residual", res, want_res), ("skip", skip, want_skip)):
        if tuple(got.shape) != tuple(want.shape):
            problems.append(f"{what} output shape {tuple(got.shape)}, expected {tuple(want.shape)}")
    if problems:
        return problems
    if _close(res, want_skip) and _close(skip, want_res):
        return ["outputs swapped: forward returns (residual, skip)"]
    if _close(res, want_skip) or _close(res, torch.zeros_like(res)):
        return ["missing residual: the residual output must come from its own 1x1 conv (res_out), not the skip "
                "path or zeros"]
    if _close(skip, want_res) or _close(skip, torch.zeros_like(skip)):
        return ["missing skip: the skip output must come from its own 1x1 conv (skip_out)"]
    if _close(res, x + want_res) and _close(skip, want_skip):
        return ["the residual output already includes the input x: the block returns res_out(y) only, and "
                "the separator adds x (ConvTasNet.masks does x = x + residual)"]
    if _close(res, want_res) != _close(skip, want_skip):
        bad = "skip" if _close(res, want_res) else "residual"
        return [f"the {bad} output differs from the library's while the other matches: check its 1x1 conv"]
    with torch.no_grad():
        for what, wrong in _variants(ref):
            w_res, w_skip = wrong(x)
            if _close(res, w_res) and _close(skip, w_skip):
                return [what]
    err = float((res - want_res).norm() / want_res.norm())
    return [f"residual and skip outputs differ from the library's (relative error {err:.2g}); check the "
            f"order {_ORDER}, and that the norm is gLN over channels and time"]


# ---------------------------------------------------------------------------------------------------
# Exercise 3: ReLU masks
# ---------------------------------------------------------------------------------------------------
_SMALL = dict(n_sources=3, N=16, L=8, B=8, H=16, P=3, X=2, R=1)


def ex07_3(cls, strict: bool = False) -> bool:
    """Exercise 3: a subclass of ``ConvTasNet`` whose ``masks`` returns ReLU masks,
    ``relu(mask_logits(w))``, instead of sigmoid ones (the rest of the network unchanged)."""
    name = "ex07_3 (ReLU masks)"
    if not (isinstance(cls, type) and issubclass(cls, ConvTasNet)):
        return verdict(name, [f"expected a subclass of ConvTasNet (the class, not an instance), got {cls!r}"],
                       strict)
    torch.manual_seed(0)
    ref = ConvTasNet(**_SMALL).double().eval()
    try:
        student = cls(**_SMALL).double().eval()
    except Exception as err:
        return verdict(name, [f"{cls.__name__}(**config) fails: {type(err).__name__}: {err} (keep ConvTasNet's "
                              f"constructor arguments)"], strict)
    try:
        student.load_state_dict(ref.state_dict())
    except RuntimeError as err:
        return verdict(name, [f"the subclass changes the parameters ({str(err).splitlines()[0]}): override "
                              f"masks only"], strict)
    g = torch.Generator().manual_seed(1)
    w = torch.randn(2, _SMALL["N"], 25, generator=g, dtype=torch.float64)
    w = w * 3  # large enough that many logits are far from 0
    with torch.no_grad():
        sig = ref.masks(w)
        logits = torch.logit(sig)  # the library's pre-sigmoid values, recovered
        want = torch.relu(logits)
        try:
            got = student.masks(w)
        except Exception as err:
            return verdict(name, [f"masks(w) fails: {type(err).__name__}: {err}"], strict)
    problems = []
    if not isinstance(got, Tensor) or tuple(got.shape) != tuple(want.shape):
        shape = tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__
        problems.append(f"masks shape {shape}, expected {tuple(want.shape)} ([batch, sources, N, frames])")
    elif _close(got, want):
        pass
    elif _close(got, sig) or _close(got, torch.relu(sig)):
        problems.append("still sigmoid masks (in (0, 1)): apply ReLU to the mask conv's output instead of the sigmoid")
    elif _close(got, logits):
        problems.append("no nonlinearity: the masks can be negative; apply ReLU")
    elif _close(got, torch.sigmoid(want)):
        problems.append("ReLU then sigmoid: the masks stay in [0.5, 1); ReLU alone")
    elif _close(got, torch.relu(logits).clamp(max=1)):
        problems.append("the masks are clipped at 1: ReLU masks are unbounded above (that is the point of the "
                        "comparison)")
    else:
        problems.append("masks differ from relu(mask_logits(w)); keep the separator of ConvTasNet.mask_logits")
    if not problems:
        x = torch.randn(1, 200, generator=g, dtype=torch.float64)
        with torch.no_grad():
            try:
                y = student(x)
            except Exception as err:
                y = None
                problems.append(f"forward fails: {type(err).__name__}: {err}")
        if y is not None and tuple(y.shape) != (1, 3, 200):
            problems.append(f"forward gives shape {tuple(y.shape)}, expected (1, 3, 200)")
    return verdict(name, problems, strict)

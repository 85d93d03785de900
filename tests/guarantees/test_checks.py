"""The one error template."""

from __future__ import annotations

import pytest
import torch

from timedist._checks import check_choice, check_optional_positive_int, shape_error


def test_template_names_layer_pattern_shape_place_and_hint() -> None:
    error = shape_error("TimeDistributed(Conv2d)", "input (B, T, C, H, W) with C=3",
                        torch.Size([8, 3, 64, 64]), where="at inputs[0]", hint="Add T")
    assert str(error) == ("TimeDistributed(Conv2d): expected input (B, T, C, H, W) with C=3; "
                          "got shape (8, 3, 64, 64) at inputs[0]. Add T")
    assert str(shape_error("L", "x", (4,))) == "L: expected x; got shape (4,)"


def test_argument_checks() -> None:
    check_choice("L", "mode", "a", ("a", "b"))
    with pytest.raises(ValueError, match="expected mode to be one of 'a', 'b'; got 'c'"):
        check_choice("L", "mode", "c", ("a", "b"))
    assert check_optional_positive_int("L", "n", None) is None
    assert check_optional_positive_int("L", "n", 3) == 3
    with pytest.raises(TypeError):
        check_optional_positive_int("L", "n", True)

"""Backbones: random init, checkpoints with prefixes and foreign heads, clear errors. No downloads."""
import pytest
import torch
from torch import nn

from vision.backbones import BackboneError, build_backbone, resolve_enum_weights, strip_prefix


def _source_model(num_classes=7, arch="resnet18"):
    from torchvision.models import get_model

    torch.manual_seed(3)
    model = get_model(arch, weights=None, num_classes=num_classes)
    # non-default BN statistics, so a checkpoint that silently failed to load would show
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def _features(model, x):
    head = model.fc
    model.fc = nn.Identity()
    try:
        with torch.inference_mode():
            return model(x)
    finally:
        model.fc = head


def test_random_init_is_seeded_and_says_so(resnet18_random):
    b = resnet18_random
    assert b.feature_dim == 512
    assert b.weights["kind"] == "random-init" and "RANDOM" in b.notes[0]
    again = build_backbone("resnet18", None, random_init=True, seed=0)
    x = torch.rand(2, 3, 32, 32)
    with torch.inference_mode():
        assert torch.equal(b.model(x), again.model(x))


def test_no_weights_without_random_init_is_an_error():
    with pytest.raises(BackboneError, match="--random-init"):
        build_backbone("resnet18", None)


@pytest.mark.parametrize("prefix, wrap, suffix", [
    ("", None, ".pth"), ("module.", None, ".pth"), ("model.", "state_dict", ".pt"),
    ("backbone.", None, ".safetensors"), ("module.model.", "model", ".pth"),
])
def test_checkpoint_with_prefix_and_foreign_head(tmp_path, prefix, wrap, suffix):
    src = _source_model(num_classes=7)
    state = {prefix + k: v.clone() for k, v in src.state_dict().items()}
    path = tmp_path / f"ckpt{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save({wrap: state, "epoch": 3} if wrap else state, path)
    b = build_backbone("resnet18", str(path))
    assert b.weights["kind"] == "checkpoint" and len(b.weights["sha256"]) == 64
    assert b.weights["head_keys_ignored"] == ["fc.bias", "fc.weight"]
    x = torch.rand(2, 3, 40, 40)
    with torch.inference_mode():
        assert torch.allclose(b.model(x), _features(src, x), atol=1e-6)


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    path = tmp_path / "r34.pth"
    torch.save(_source_model(arch="resnet34").state_dict(), path)
    with pytest.raises(BackboneError) as err:
        build_backbone("resnet18", str(path))
    msg = str(err.value)
    assert str(path) in msg and "does not fit resnet18" in msg and "\n" not in msg


def test_checkpoint_with_wrong_shapes_is_refused(tmp_path):
    state = _source_model().state_dict()
    state["conv1.weight"] = torch.zeros(64, 3, 5, 5)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(BackboneError, match="shape mismatches.*conv1.weight"):
        build_backbone("resnet18", str(path))


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("hello")
    with pytest.raises(BackboneError, match="cannot load as a state dict"):
        build_backbone("resnet18", str(path))
    with pytest.raises(BackboneError, match="not found"):
        build_backbone("resnet18", str(tmp_path / "missing.pth"))


def test_pickled_objects_are_not_loaded(tmp_path):
    path = tmp_path / "full_model.pth"
    torch.save(_source_model(), path)  # a whole pickled module: weights_only must refuse it
    with pytest.raises(BackboneError, match="cannot load as a state dict"):
        build_backbone("resnet18", str(path))


def test_strip_prefix_only_when_all_keys_share_it():
    state = {"module.a": torch.zeros(1), "b": torch.zeros(1)}
    assert strip_prefix(state) == (state, "")


def test_enum_names_resolve_without_download():
    assert str(resolve_enum_weights("resnet18", "DEFAULT")) == "ResNet18_Weights.IMAGENET1K_V1"
    assert str(resolve_enum_weights("resnet50", "IMAGENET1K_V2")) == "ResNet50_Weights.IMAGENET1K_V2"
    assert str(resolve_enum_weights("resnet18", "ResNet18_Weights.IMAGENET1K_V1")) == "ResNet18_Weights.IMAGENET1K_V1"
    with pytest.raises(BackboneError, match="IMAGENET1K_V1"):
        resolve_enum_weights("resnet18", "IMAGENET_XXL")


def test_unsupported_architecture():
    with pytest.raises(BackboneError, match="not supported"):
        build_backbone("vgg16", None, random_init=True)


@pytest.mark.parametrize("arch, dim", [("mobilenet_v3_small", 576), ("densenet121", 1024)])
def test_other_families_give_their_pooled_features(arch, dim):
    assert build_backbone(arch, None, random_init=True).feature_dim == dim

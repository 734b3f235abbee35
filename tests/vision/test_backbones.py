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
        assert torch.allclose(b.features(x), _features(src, x), atol=1e-6)


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


# -- issue 8: maps, any module, timm ------------------------------------------------------------

@pytest.mark.parametrize("arch", ["resnet18", "mobilenet_v3_small", "shufflenet_v2_x0_5", "mnasnet0_5",
                                  "regnet_y_400mf", "efficientnet_b0", "densenet121"])
def test_the_map_averages_to_torchvision_pooled_features(arch):
    """The map trunk is the torchvision forward up to the pool: its global average is the feature."""
    from torchvision.models import get_model

    from vision.backbones import _HEADS, head_attribute

    b = build_backbone(arch, None, random_init=True, seed=1)
    torch.manual_seed(1)
    full = get_model(arch, weights=None).eval()
    attr, _ = head_attribute(arch)
    setattr(full, attr, nn.Identity())
    assert b.gives_map and arch.startswith(tuple(_HEADS))
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        out = b.model(x)
        assert out.ndim == 4 and out.shape[1] == b.feature_dim
        assert torch.allclose(out.mean(dim=(2, 3)), full(x), atol=1e-5)


def test_swin_gives_pooled_features_only():
    b = build_backbone("swin_t", None, random_init=True)
    assert b.gives_map is False and b.feature_dim == 768


def test_state_dict_hash_follows_the_weights():
    from tests.vision.arch_helpers import TinyConvNet
    from vision.backbones import state_dict_sha256

    torch.manual_seed(0)
    a = TinyConvNet()
    torch.manual_seed(0)
    b = TinyConvNet()
    assert state_dict_sha256(a) == state_dict_sha256(b) and len(state_dict_sha256(a)) == 64
    with torch.no_grad():
        b.body[0].bias[0] += 1e-3
    assert state_dict_sha256(a) != state_dict_sha256(b)


def test_a_bare_module_is_wrapped_with_its_identity():
    from tests.vision.arch_helpers import TinyConvNet, TinyPooled
    from vision.backbones import from_module
    from vision.preprocess import Preprocessing

    b = from_module(TinyConvNet(), preprocessing=Preprocessing(resize=40, crop=32, mean=(0.5,) * 3, std=(0.25,) * 3))
    assert b.feature_dim == 8 and b.gives_map and b.preprocessing.crop == 32
    assert b.weights["kind"] == "module" and b.weights["class"] == "tests.vision.arch_helpers.TinyConvNet"
    assert len(b.weights["sha256"]) == 64
    p = from_module(TinyPooled())
    assert p.feature_dim == 6 and p.gives_map is False and p.preprocessing.mean == (0.485, 0.456, 0.406)


@pytest.mark.parametrize("spec, expect", [
    ("tests.vision.no_such_module:f", "cannot import tests.vision.no_such_module (ModuleNotFoundError"),
    ("tests.vision.arch_helpers:missing", "has no attribute 'missing'"),
    ("tests.vision.arch_helpers:NOT_CALLABLE", "NOT_CALLABLE is a int, not callable"),
    ("tests.vision.arch_helpers:raises", "calling it raised RuntimeError: weights server unreachable"),
    ("tests.vision.arch_helpers:not_a_module", "returned a int, not a torch.nn.Module"),
    ("tests.vision.arch_helpers:wrong_shape", "returns shape (2, 3, 64) for a (2, 3, 64, 64) batch"),
])
def test_bad_callables_are_one_line_naming_them(spec, expect):
    from vision.backbones import load_backbone
    from vision.preprocess import Preprocessing

    with pytest.raises(BackboneError) as err:
        load_backbone(spec, preprocessing=Preprocessing(resize=64, crop=64))
    msg = str(err.value)
    assert expect in msg and "\n" not in msg
    assert spec in msg


def test_callable_with_a_checkpoint_of_a_wrapped_classifier(tmp_path):
    """A checkpoint of the module inside a wrapper, with a head the callable's module lacks."""
    from tests.vision.arch_helpers import TinyConvNet
    from vision.backbones import load_backbone, state_dict_sha256

    torch.manual_seed(5)
    src = TinyConvNet()
    state = {f"module.{k}": v for k, v in src.state_dict().items()}
    state["module.fc.weight"], state["module.fc.bias"] = torch.zeros(5, 8), torch.zeros(5)
    path = tmp_path / "ck.pth"
    torch.save({"state_dict": state}, path)
    b = load_backbone("tests.vision.arch_helpers:tiny_convnet", str(path))
    assert b.weights["sha256"] == state_dict_sha256(src)
    assert b.weights["checkpoint"]["head_keys_ignored"] == ["fc.bias", "fc.weight"]
    assert b.weights["checkpoint"]["prefix_stripped"] == "module."
    x = torch.rand(2, 3, 32, 32)
    with torch.inference_mode():
        assert torch.equal(b.model(x), src.eval()(x))
    bad = tmp_path / "bad.pth"
    torch.save({"body.0.weight": torch.zeros(8, 3, 5, 5)}, bad)
    with pytest.raises(BackboneError, match="does not fit tests.vision.arch_helpers:tiny_convnet"):
        load_backbone("tests.vision.arch_helpers:tiny_convnet", str(bad))


def test_callables_are_seeded():
    from vision.backbones import load_backbone

    a = load_backbone("tests.vision.arch_helpers:tiny_convnet", seed=3)
    b = load_backbone("tests.vision.arch_helpers:tiny_convnet", seed=3)
    c = load_backbone("tests.vision.arch_helpers:tiny_convnet", seed=4)
    assert a.weights["sha256"] == b.weights["sha256"] != c.weights["sha256"]


def test_timm_models_use_timm_config_and_forward_features(tmp_path):
    timm = pytest.importorskip("timm")
    from vision.backbones import load_backbone

    b = load_backbone("timm:test_resnet", random_init=True, seed=0)
    m = timm.create_model("test_resnet", pretrained=False, num_classes=0)
    cfg = timm.data.resolve_model_data_config(m)
    assert b.preprocessing.crop == cfg["input_size"][-1] and b.preprocessing.mean == tuple(cfg["mean"])
    assert b.gives_map and b.feature_dim == m.num_features and "RANDOM" in b.notes[0]
    # a checkpoint with a classifier of another size loads into the trunk
    torch.manual_seed(9)
    src = timm.create_model("test_resnet", pretrained=False, num_classes=7).eval()
    path = tmp_path / "t.safetensors"
    from safetensors.torch import save_file

    save_file({f"model.{k}": v.contiguous() for k, v in src.state_dict().items()}, str(path))
    loaded = load_backbone("timm:test_resnet", str(path))
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        assert torch.allclose(loaded.model(x), src.forward_features(x), atol=1e-6)
    assert loaded.weights["kind"] == "checkpoint" and loaded.weights["head_keys_ignored"]
    vit = load_backbone("timm:test_vit", random_init=True)
    assert vit.gives_map is False  # token models: timm's pooled pre-logits features
    with pytest.raises(BackboneError, match="timm has no model"):
        load_backbone("timm:no_such_net", random_init=True)
    with pytest.raises(BackboneError, match="'pretrained' or a checkpoint"):
        load_backbone("timm:test_resnet", "DEFAULT")

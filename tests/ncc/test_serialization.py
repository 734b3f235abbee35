"""Model files: format detection by structure and headers checked before allocation (issue 11)."""
from __future__ import annotations

import json
import resource

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import ncc
from ncc.model import NCC, NCCConfig, NCCEnsemble
from ncc.serialization import ModelFileError, model_from_bytes, model_to_bytes

SMALL = NCCConfig(embed_dim=4, classifier_dim=4)


def _rewrite(path, config=None, tensors=None, raw_config=None, **meta_changes):
    """Rewrite a saved model file with some metadata / config / tensors changed."""
    with safe_open(str(path), "pt") as fh:
        meta = fh.metadata()
        stored = {k: fh.get_tensor(k) for k in fh.keys()}
    if config is not None:
        meta["config"] = json.dumps({**json.loads(meta["config"]), **config})
    if raw_config is not None:
        meta["config"] = raw_config
    meta.update(meta_changes)
    save_file({**stored, **(tensors or {})}, str(path), metadata=meta)
    return path


def test_safetensors_is_recognised_whatever_its_first_byte(tmp_path):
    """Case 5: the first byte is the header length mod 256; 0x80 must not read as 'pickle'."""
    torch.manual_seed(0)
    net = NCC(SMALL).eval()
    seen = set()
    path = tmp_path / "m.safetensors"
    for pad in range(0, 264):
        _rewrite(ncc.save(net, path), pad="x" * pad)
        data = path.read_bytes()
        seen.add(data[0])
        loaded = ncc.load(path)  # file path
        assert torch.equal(loaded.head.weight, net.head.weight)
        assert isinstance(model_from_bytes(data, "blob"), NCC)  # bytes path (pickled estimators)
    assert 0x80 in seen and len(seen) == 32  # safetensors pads headers to 8 bytes: every residue


def test_default_architecture_ensemble_of_16_loads(tmp_path):
    """The issue's example (16 default members), padded so the header length is 0x..80 whatever
    the config fields of the day."""
    from safetensors.torch import save

    from ncc.serialization import _tensors_and_header

    torch.manual_seed(0)
    model = NCCEnsemble([NCC() for _ in range(16)]).eval()
    tensors, header = _tensors_and_header(model)
    data = next(d for pad in range(256) if (d := save(tensors, metadata={**header, "pad": "x" * pad}))[0] == 0x80)
    assert data[0] == 0x80 and len(model_to_bytes(model)) > 0
    assert len(model_from_bytes(data).members) == 16
    path = tmp_path / "e16.safetensors"
    path.write_bytes(data)
    assert len(ncc.load(path).members) == 16


def test_a_pickle_starting_with_0x80_is_still_refused(tmp_path):
    import pickle

    path = tmp_path / "p.safetensors"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=4))
    with pytest.raises(ModelFileError, match="pickle"):
        ncc.load(path)
    with pytest.raises(ModelFileError, match="pickle"):
        model_from_bytes(path.read_bytes())


@pytest.mark.parametrize("change, match", [
    ({"config": {"batchnorm": "no"}}, "batchnorm must be true or false"),
    ({"config": {"batchnorm": 0}}, "batchnorm must be true or false"),
    ({"config": {"dropout": "0.1"}}, "dropout must be a number"),
    ({"config": {"embed_dim": 4.0}}, "embed_dim must be an integer"),
    ({"config": {"n_subsamples": 10**9}}, "n_subsamples"),
    ({"config": {"max_points": 10**12}}, "max_points"),
    ({"config": {"embed_layers": 10**7}}, "embed_layers"),
    ({"config": {"embed_dim": 40000}}, "members.0.phi.0.linear.weight"),
    ({"config": {"embed_dim": 300000}}, "shape"),
    ({"n_members": str(10**9)}, "tensors"),
    ({"n_members": "2"}, "tensors"),
    ({"config": [1, 2]}, "config is a list"),
])
def test_lying_headers_are_refused_before_allocation(tmp_path, change, match):
    """Case 10: header types and tensor shapes are checked before anything is allocated."""
    path = ncc.save(NCC(SMALL).eval(), tmp_path / "m.safetensors")
    if isinstance(change.get("config"), list):
        _rewrite(path, raw_config=json.dumps(change["config"]))
    else:
        _rewrite(path, **change)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ModelFileError, match=match) as info:
        ncc.load(path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200 and str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ModelFileError, match=match):
        model_from_bytes(path.read_bytes())


@pytest.mark.parametrize("key, value, match", [
    ("members.0.phi.0.norm.running_var", -1.0, "negative variances"),
    ("members.0.phi.1.linear.weight", float("nan"), "NaN"),
])
def test_bad_values_are_refused_at_load(tmp_path, key, value, match):
    net = NCC(SMALL).eval()
    path = ncc.save(net, tmp_path / "m.safetensors")
    bad = net.state_dict()[key.removeprefix("members.0.")].clone()
    bad.view(-1)[0] = value
    _rewrite(path, tensors={key: bad})
    with pytest.raises(ModelFileError, match=match):
        ncc.load(path)

"""issue 9: one device rule in vision: auto, cpu, cuda or cuda:N for a GPU that exists."""
import pytest
import torch

from vision.device import resolve_device


def test_extraction_uses_the_one_resolver():
    import vision.extract

    assert vision.extract.resolve_device is resolve_device


def test_cpu_and_auto_without_gpu():
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cuda:", "CPU", ""])
def test_malformed_device_is_a_one_line_error(spec):
    with pytest.raises(ValueError, match="device must be auto, cpu, cuda or cuda:N") as info:
        resolve_device(spec)
    assert "\n" not in str(info.value)


def test_a_gpu_that_does_not_exist_is_refused():
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(ValueError, match="cuda:99") as info:
        resolve_device("cuda:99")
    assert "\n" not in str(info.value)
    if count:
        assert resolve_device("cuda:0") == torch.device("cuda:0")


def test_config_refuses_a_malformed_device_before_any_work():
    from vision.extract import ExtractionConfig

    with pytest.raises(ValueError, match="cuda:N"):
        ExtractionConfig(device="gpu0")
    assert ExtractionConfig(device="cuda:1").device == "cuda:1"  # checked against the machine only when used

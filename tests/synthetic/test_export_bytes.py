"""`ncc generate`'s CEPC and Tübingen files stay byte-identical while their writers move.

The digests were recorded from the files that `ncc generate` wrote before the writers were merged into
synthetic/pair_files.py (commit 87cf52b), with exactly the commands below; metadata JSON files are left
out because they record the package version.
"""
from __future__ import annotations

import hashlib

from typer.testing import CliRunner

from ncc.cli import app

CEPC = ["generate", "--n-pairs", "5", "--n-points", "30", "--format", "cepc", "--seed", "3",
        "--kinds", "causal,independent"]
TUEBINGEN = ["generate", "--n-pairs", "5", "--n-points", "10:40", "--format", "tuebingen", "--seed", "4"]
RECORDED = {
    "c_pairs.csv": "e05efd1e85419fceb90fe4a412ad13b3269350dfb3466fc67ecd78cb487bdecc",
    "c_targets.csv": "bf396578495b64947a10aff421142cf078e290329c54805bedb30f12bca88f75",
    "t/pair0001.txt": "63cfe9cc74299d07f182ab5a83b72080de79a6a9f374719384e544e484624b82",
    "t/pair0002.txt": "8baaacab928cf4fe2c9800933b98fbdde0bf05030e52053992e2a4a0c5247620",
    "t/pair0003.txt": "e70f4207821664f4dbd831991f8941e2fa8c1c450b910af1ed5902948bcc7bc4",
    "t/pair0004.txt": "71842e35c2ed0674a652a4d81e552ac051a3c848a7212823866fc5e4f5d3376f",
    "t/pair0005.txt": "c06a93ff8d789d2e692fb34c118ebb89052abb8740df259d5ec42585f7698709",
    "t/pairmeta.txt": "cb8eaa702824b5cbbca883849810b976cdd3d1bee02073c26fa5cce1afca921a",
}


def test_generated_cepc_and_tuebingen_files_are_byte_identical(tmp_path):
    runner = CliRunner()
    for args, out in ((CEPC, "c"), (TUEBINGEN, "t")):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    digests = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in RECORDED}
    assert digests == RECORDED

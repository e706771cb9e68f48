"""The layer carries the functions' shared code and the SDK they were tested with, and nothing they never load."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from webhookctl.building.packaging import build_layer_zip, exact_pins, package_all
from webhookctl.handlers.webhook_common.contract import names

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
REQUIREMENTS = HANDLERS / "layer" / "requirements.txt"
PINS = exact_pins(REQUIREMENTS.read_text()) or {}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class NoPip:
    def __call__(self, command: Any) -> Any:
        raise AssertionError(f"pip ran: {command}")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """handlers.zip and layer.zip built from this environment, with pip forbidden."""
    out = tmp_path_factory.mktemp("artifacts")
    return package_all(out, cache_dir=out / "cache", pip=NoPip())


def test_the_layer_pins_boto3_and_everything_it_needs() -> None:
    assert {"boto3", "botocore"} <= set(PINS)
    for name in PINS:
        requires = metadata.requires(name) or []
        needed = {canonical(re.split(r"[ ;<>=!~(\[]", line, maxsplit=1)[0]) for line in requires
                  if "extra ==" not in line}
        assert needed <= {canonical(pin) for pin in PINS}, (name, needed)


def test_the_sdk_comes_from_this_environments_files_when_they_are_the_pinned_wheels(artifacts: Any) -> None:
    # GIVEN `make` installed exactly the pins (a test elsewhere holds it to that); pip would raise
    with zipfile.ZipFile(artifacts.layer.path) as layer:
        listed = layer.namelist()
        # THEN the layer's boto3 is byte for byte the one the tests imported
        for module in ("boto3/__init__.py", "botocore/client.py", "botocore/data/endpoints.json"):
            installed = Path(metadata.distribution(module.split("/")[0]).locate_file(module)).read_bytes()
            assert layer.read(f"python/{module}") == installed
    # and of the service models only the functions' own are kept
    models = {name.split("/")[3] for name in listed if name.startswith("python/botocore/data/") and name.count("/") > 3}
    assert models == set(names.SDK_SERVICES)
    assert {name.rsplit("/", 1)[1] for name in listed if ".dist-info/" in name} == {"METADATA", "WHEEL"}
    assert artifacts.layer.size < 4_000_000  # the whole of botocore would be ~15 MB zipped


@pytest.mark.parametrize("artifact", ["layer", "handlers"])
def test_every_module_ships_an_unchecked_hash_pyc_for_lambdas_read_only_mounts(artifacts: Any, artifact: str) -> None:
    # read-only /opt and /var/task mean no bytecode cache: without these, each cold start compiles botocore
    # (~180 ms) and the handlers (~12 ms)
    with zipfile.ZipFile(getattr(artifacts, artifact).path) as archive:
        listed = set(archive.namelist())
        for module in [n for n in listed if n.endswith(".py")]:
            folder, _, name = module.rpartition("/")
            pyc = f"{folder}/__pycache__/{name[:-3]}.{sys.implementation.cache_tag}.pyc".lstrip("/")
            assert pyc in listed, module
            header = archive.read(pyc)[:8]
            assert header[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(header[4:8], "little") == 0b01


def test_shared_code_ships_once_in_the_layer_and_the_handlers_zip_holds_only_entry_modules(artifacts: Any) -> None:
    with zipfile.ZipFile(artifacts.handlers.path) as handlers, zipfile.ZipFile(artifacts.layer.path) as layer:
        assert [n for n in handlers.namelist() if n.endswith(".py")] == sorted(f"{f}.py" for f in names.FUNCTIONS)
        assert len(handlers.namelist()) == 2 * len(names.FUNCTIONS)  # and each one's pyc
        assert "python/webhook_common/contract/names.py" in layer.namelist()


def test_the_services_the_handlers_call_are_the_ones_the_layer_keeps() -> None:
    called = set()
    for path in HANDLERS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                called.add(node.args[0].value)
    assert called == set(names.SDK_SERVICES)


def test_a_changed_shared_module_rebuilds_the_layer_but_not_the_sdk(tmp_path: Path) -> None:
    source = tmp_path / "handlers"
    source.mkdir()
    (source / "webhook_common").mkdir()
    (source / "webhook_common" / "__init__.py").write_text("")
    first = build_layer_zip(tmp_path / "1.zip", REQUIREMENTS, tmp_path / "cache", pip=NoPip(), shared_source=source)
    (source / "webhook_common" / "__init__.py").write_text("# changed\n")
    second = build_layer_zip(tmp_path / "2.zip", REQUIREMENTS, tmp_path / "cache", pip=NoPip(), shared_source=source)
    assert first.sha256 != second.sha256
    assert len(list((tmp_path / "cache" / "layers").glob("*/sdk.zip"))) == 1


RUN_AS_LAMBDA = """
import json, os, sys
task, layer, url = sys.argv[1:4]
sys.path[:0] = [task, layer]  # Lambda's order: the function's code, then the layer, then the runtime
import audit, processor, receiver, sweeper, boto3, botocore
from botocore.exceptions import UnknownServiceError
calls = {"dynamodb": "list_tables", "events": "list_event_buses", "secretsmanager": "list_secrets",
         "sqs": "list_queues"}
answered = {s: sorted(getattr(boto3.client(s, endpoint_url=url), op)()["ResponseMetadata"]) and "ok"
            for s, op in calls.items()}
try:
    boto3.client("s3", endpoint_url=url)
    s3 = "loaded"
except UnknownServiceError:
    s3 = "not in the layer"
print(json.dumps({"boto3": [boto3.__version__, boto3.__file__.startswith(layer)],
                  "botocore": [botocore.__version__, botocore.__file__.startswith(layer)],
                  "receiver": receiver.__file__.startswith(task), "answered": answered, "s3": s3}))
"""


def test_the_functions_import_and_call_aws_with_only_their_zip_and_the_layer(artifacts: Any, tmp_path: Path,
                                                                              emulator: Any) -> None:
    # GIVEN both zips unpacked as Lambda mounts them (/var/task and /opt), and no site-packages at all
    task, opt = tmp_path / "task", tmp_path / "opt"
    zipfile.ZipFile(artifacts.handlers.path).extractall(task)
    zipfile.ZipFile(artifacts.layer.path).extractall(opt)
    environment = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    # WHEN a bare interpreter (-S: not even this venv) imports every handler and calls each service
    result = subprocess.run([sys.executable, "-S", "-c", RUN_AS_LAMBDA, str(task), str(opt / "python"),
                             emulator.url], capture_output=True, text=True, timeout=60, env=environment)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    # THEN they ran on the pinned SDK from the layer, every service answered, and others were trimmed away
    assert seen["boto3"] == [PINS["boto3"], True] and seen["botocore"] == [PINS["botocore"], True]
    assert seen["receiver"] is True
    assert seen["answered"] == dict.fromkeys(names.SDK_SERVICES, "ok")
    assert seen["s3"] == "not in the layer"

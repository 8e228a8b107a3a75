# DEQ Studio — the two set-up commands are `make run` and `make test`.
# Everything lives in .venv; CPU torch is installed first where no NVIDIA GPU answers.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# CPU build on machines without an NVIDIA GPU (override with `make TORCH_CPU=...`).
TORCH_CPU  ?= torch==2.13.0
TORCH_CUDA ?= torch
HAS_NVIDIA := $(shell nvidia-smi -L >/dev/null 2>&1 && echo yes)
# Debian packages the runtime needs: libusb for Open3D, the Qt/xcb/GL libraries for the GUI and its tests,
# PortAudio for audio playback.
APT_PACKAGES := libusb-1.0-0 libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
                libglib2.0-0 xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 \
                libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libgl1-mesa-dri libportaudio2
STAMP  := $(VENV)/.installed

.PHONY: run test bench system-deps venv clean help

help:
	@echo "make run    create .venv, install, start DEQ Studio on a built-in sample"
	@echo "make test   install dev dependencies and run the whole test suite"
	@echo "make bench  run the benchmarks (JSON on stdout)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Install system libraries once, where apt exists and something is missing (root or sudo needed).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null 2>&1; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  echo "installing system packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml | $(PY)
	@if [ "$(HAS_NVIDIA)" = yes ]; then $(PIP) install "$(TORCH_CUDA)"; \
	 else $(PY) -c "import torch" 2>/dev/null || $(PIP) install "$(TORCH_CPU)"; fi
	$(PIP) install -e ".[dev]"
	@touch $(STAMP)

venv: system-deps $(STAMP)

run: venv
	$(PY) -m app.main

test: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: venv
	$(PY) bench/solvers.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

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
                libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libgl1-mesa-dri libportaudio2 \
                desktop-file-utils strace
STAMP  := $(VENV)/.installed

# Packaging: `make package` builds the bundle and the installers into dist/ from build/venv-$(TORCH), a separate
# virtualenv with a plain (not editable) install of the project, PyInstaller and the CPU build of PyTorch;
# `make package TORCH=cuda` bundles the CUDA build instead (for NVIDIA machines; a 5.6 GB bundle, 3 GB packed).
TORCH       ?= cpu
PACKAGE_VENV = build/venv-$(TORCH)
PACKAGE_PY   = $(PACKAGE_VENV)/bin/python
PACKAGE_TORCH = $(if $(filter cuda,$(TORCH)),$(TORCH_CUDA),$(TORCH_CPU))
PYINSTALLER ?= pyinstaller>=6.10,<7

.PHONY: run test bench package smoke-test system-deps venv clean help

help:
	@echo "make run         create .venv, install, start DEQ Studio on a built-in sample"
	@echo "make test        install dev dependencies and run the whole test suite"
	@echo "make bench       run the benchmark report (bench/results/<date>-<device>-quick.md)"
	@echo "make package     build the bundle, .tar.gz and .deb into dist/ (TORCH=cuda for the CUDA build)"
	@echo "make smoke-test  run packaging/smoke_test.sh on what dist/ holds"

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

# The real data beside a source checkout (MNIST for the JIIO tasks) unless DEQ_STUDIO_DATA says otherwise; an
# installed bundle ships its own digits.
SHARED_DATA := $(wildcard $(abspath ../shared/data))
DATA_ENV    := $(if $(SHARED_DATA),DEQ_STUDIO_DATA="$${DEQ_STUDIO_DATA:-$(SHARED_DATA)}")

run: venv
	$(DATA_ENV) $(PY) -m app.main

test: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# The bench report at the CPU-feasible size: every table with the paper's number beside ours, written to
# bench/results/<date>-<device>-quick.{json,md} (about 40 minutes on 2 cores).
bench: venv
	$(PIP) install -q -e ".[bench]"
	$(DATA_ENV) $(PY) bench/report.py --quick

package: system-deps
	@test -x $(PACKAGE_PY) || $(PYTHON) -m venv $(PACKAGE_VENV)
	$(PACKAGE_PY) -m pip install -q --upgrade pip
	$(PACKAGE_PY) -m pip install -q $(PACKAGE_TORCH)
	rm -rf build/lib build/bdist.*  # setuptools' staging folders keep deleted files
	$(PACKAGE_PY) -m pip install -q . "$(PYINSTALLER)"
	$(PACKAGE_PY) packaging/build.py

smoke-test:
	packaging/smoke_test.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

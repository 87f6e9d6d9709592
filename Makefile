# cuecoach: `make` sets everything up and builds output/week1-day1.mp3; `make test` runs the checks and the tests.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := espeak-ng ffmpeg python3-venv

.PHONY: all setup system browser test-tools sounds lint test test-fast bench all-days reference clean

all: setup
	$(BIN)/cuecoach build week1-day1

setup: system $(BIN)/cuecoach sounds

# System packages: the espeak-ng speech library (pyttsx3 on Linux) and ffmpeg (MP3 encoding).
system:
	@missing=""; \
	command -v ffmpeg >/dev/null 2>&1 || missing="$$missing ffmpeg"; \
	{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q libespeak-ng || missing="$$missing espeak-ng"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	  else \
	    echo "please install:$$missing (macOS: brew install ffmpeg)"; exit 1; \
	  fi; \
	fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cuecoach needs Python 3.11 or newer")'

$(BIN)/cuecoach: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,piper]'
	@touch $@

# The web player's tests drive the system's Chromium (playwright cannot download a browser here).
browser:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (for the web player's tests)"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "please install Chromium for the web player's tests"; exit 1; \
	  fi; \
	fi

# Always run: it writes missing sounds and updates old default ones, never a coach's own WAV.
sounds:
	@$(PYTHON) sounds/make_sounds.py

# mp3val checks the joined MP3s (the assembly tests); Chromium comes from `browser`.
test-tools:
	@if ! command -v mp3val >/dev/null 2>&1; then \
	  echo "installing mp3val (for the MP3 assembly tests)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq mp3val >/dev/null; \
	fi

# ruff (lint and import order), mypy and the wings' import contract, each configured in pyproject.toml.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: setup browser test-tools lint
	$(BIN)/python -m pytest -q

test-fast: setup browser
	$(BIN)/python -m pytest -q -m "not slow"

all-days: setup
	$(BIN)/cuecoach build --all

bench: setup
	$(BIN)/python bench/bench_build.py

# docs/reference.md, every routine key, written from their declarations (src/cuecoach/config/settings.py).
reference: $(BIN)/cuecoach
	$(BIN)/python -m cuecoach.config.reference docs/reference.md

clean:
	rm -rf $(VENV) .cache output/*.mp3 output/*.json output/*.lrc output/*.m3u8 output/site

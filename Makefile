# Two commands for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# Both bootstrap themselves: system packages (apt), a virtualenv, the package and its extras.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := libportaudio2 jackd2 xvfb xdotool liblo-tools ffmpeg
# torch is pinned and installed first: on these machines the pin is a local CPU wheel, and an unpinned
# torch would pull a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0
LINT_PATHS := engine tests $(wildcard bench)

.PHONY: demo test lint format system clean

demo: $(STAMP)
	$(BIN)/halation demo

test: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

system:
	@missing=""; \
	if command -v dpkg >/dev/null 2>&1; then \
	  for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	else echo "not a Debian/Ubuntu system: install PortAudio, Xvfb, JACK, liblo-tools and ffmpeg yourself"; fi; \
	if [ -n "$$missing" ]; then \
	  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; sh -c "$$cmd"; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	    echo "installing with sudo:$$missing"; sudo sh -c "$$cmd"; \
	  else echo "missing system packages:$$missing"; echo "run:  sudo sh -c '$$cmd'"; exit 1; fi; \
	fi

$(STAMP): pyproject.toml | system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH_PIN)
	$(BIN)/pip install -q -e '.[prepare,plot,dev,link,ndi]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache demo.mp4

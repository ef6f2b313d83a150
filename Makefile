# Rantai: `make run` starts the whole system on the embedded SQLite default;
# `make test` sets up and runs the tests (SQLite and PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make run PORT=8001: the port rantai serve listens on (127.0.0.1); default 8000
PORT ?= 8000

.PHONY: run test bench zbar chromium vendor screens clean demo port-free

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# pyzbar needs the system library libzbar0 to decode QR images.
zbar:
	@if ldconfig -p 2>/dev/null | grep -q 'libzbar.so.0'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing libzbar0 (QR decoding) with apt-get..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzbar0 >/dev/null; \
	else \
		echo "libzbar0 is missing: install it with 'sudo apt-get install libzbar0' (QR decoding needs it)."; exit 1; \
	fi

# The staff app's browser tests drive Debian's chromium (Playwright's own browser download is not used).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing chromium (the staff app's browser tests) with apt-get..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium is missing: install it with 'sudo apt-get install chromium' (the browser tests need it)."; exit 1; \
	fi

# Before anything is installed or loaded: is 127.0.0.1:$(PORT) free for rantai serve?
port-free:
	@$(PYTHON) -c "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int('$(PORT)')))" 2>/dev/null \
		|| { echo "Port $(PORT) on 127.0.0.1 is in use (or not a port number): stop what listens there, or choose another: make run PORT=8001"; exit 1; }

run: port-free $(STAMP) zbar vendor
	$(BIN)/rantai db init
	$(BIN)/rantai demo
	$(BIN)/rantai demo --scenario jan2021 --scale 0.01
	$(BIN)/rantai users demo
	$(BIN)/rantai serve --port $(PORT)

# The browser libraries the pages load (zxing-wasm), fetched by pinned version and hash when missing.
vendor: $(STAMP)
	$(BIN)/python -m interfaces.web.vendor

# Screenshots of every staff page at 360 x 800 into docs/screens/ (the list: tests/web/screens.py).
screens: $(STAMP) chromium vendor
	$(BIN)/python -m tests.web.screens docs/screens

test: $(STAMP) zbar chromium vendor
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.dispatch_receive
	$(BIN)/python -m bench.import_blast

clean:
	rm -rf $(VENV) var

# Rantai: `make run` starts the whole system on the embedded SQLite default;
# `make test` sets up and runs the tests (SQLite and PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench zbar clean demo

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

run: $(STAMP) zbar
	$(BIN)/rantai db init
	$(BIN)/rantai demo
	$(BIN)/rantai demo --scenario jan2021 --scale 0.01
	$(BIN)/rantai users demo
	$(BIN)/rantai serve

test: $(STAMP) zbar
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.dispatch_receive
	$(BIN)/python -m bench.import_blast

clean:
	rm -rf $(VENV) var

# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# -qq: errors only (a locked, hashed install has nothing else worth saying)
PIP := $(BIN)/python -m pip -qq --disable-pip-version-check
INTEROP := tests/interop

.PHONY: run test install node lock check-lock generate check-generated lint bench clean rehearse image

run: install
	@$(BIN)/genvid dev

# The tests mostly wait on processes, sockets and other services, so four test sessions share two cores well;
# each starts its own embedded PostgreSQL and Redis, and takes whole test files (module fixtures are set up
# once), the files marked slow first (tests/conftest.py orders them). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 4
test: install node
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Exactly the locked versions (requirements/dev.txt, hashed; `make lock` writes it), then genvid itself as an
# editable install without dependencies, so nothing is resolved at install time.
install: $(VENV)/.installed

$(VENV)/.installed: requirements/dev.txt pyproject.toml setup.cfg
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "genvid needs Python 3.11+"'
	@echo "genvid: installing the locked Python packages into $(VENV) (the first time takes a minute or two)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) install --require-hashes --no-deps -r requirements/dev.txt
	@$(PIP) install --no-deps --editable .
	@touch $@

# The real better-auth client and server are test tools, pinned in tests/interop/package-lock.json.
node: $(if $(wildcard $(INTEROP)/package.json),$(INTEROP)/node_modules/.installed)

$(INTEROP)/node_modules/.installed: $(INTEROP)/package.json $(wildcard $(INTEROP)/package-lock.json)
	@echo "genvid: installing the pinned better-auth npm packages for the interop tests"
	@cd $(INTEROP) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Re-resolve requirements.txt (production) and requirements/dev.txt from setup.cfg; UPGRADE=1 takes the newest
# releases setup.cfg allows. check-lock (CI) fails when the committed locks no longer satisfy setup.cfg.
lock: install
	tools/lock

check-lock: install
	tools/lock --check

generate: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sqlc generate

check-generated: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sqlc diff

# ruff, mypy, the import rules (.importlinter: layers, no cycles, Flask only on the request side) and no SQL
# strings outside queries/ and migrations/ (tools/check_sql.py, its exceptions in tools/sql_allowlist.txt).
lint: install
	$(BIN)/ruff check genvid tools tests bench
	$(BIN)/mypy genvid tools
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tools/check_sql.py

# The deploy rehearsal: genvid installed from requirements.txt alone, the Procfile's processes as separate
# dynos against Debian's postgresql and a TLS-only redis-server, media in a local S3 (tests/test_deploy_rehearsal.py).
rehearse: install
	$(BIN)/pytest tests/test_deploy_rehearsal.py --rehearsal -s -p no:cacheprovider

# The container image from the Dockerfile (buildah, on a debootstrapped Debian base), started and checked
# (tests/test_container_image.py); needs root and Debian's buildah, podman and debootstrap.
image: install
	$(BIN)/pytest tests/test_container_image.py --image -s -p no:cacheprovider

bench: install node
	$(BIN)/python bench/auth.py
	$(BIN)/python bench/videos.py
	$(BIN)/python bench/batches.py
	$(BIN)/python bench/webhooks.py

clean:
	rm -rf $(VENV) $(INTEROP)/node_modules

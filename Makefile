# The two commands of the Quick start: `make run` (the demo site) and `make test` (the whole suite).
# Everything is installed into .venv from PyPI; nothing else is needed on the machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Tests run in two processes (the machines this is built on have two cores).
PYTEST_WORKERS ?= 2

.PHONY: install run test demo clean lint messages browser proxy bench mailserver
.PHONY: pgserver cluster bench-cluster bench-export

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/aftersales migrate --verbosity 0
	$(BIN)/aftersales demo --if-empty --seed 2026
	$(BIN)/aftersales serve --host $(HOST) --port $(PORT) --no-migrate --with-worker

test: install browser proxy mailserver pgserver
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } || { echo "the browser tests need Chromium: sudo apt-get install chromium fonts-noto-cjk"; exit 1; }

# The benchmark suite (bench/run.py): SCALE orders on DATABASE_URL (SQLite in var/bench by default);
# writes bench/results.json. wrk is Debian's; installed here when missing (as root).
SCALE ?= 100000
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y wrk >/dev/null; } || { echo "bench needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/run.py --scale $(SCALE)

# The export figure alone (issue 13): SCALE rows through ?export=xlsx, the worker's peak memory
# merged into bench/results.json as export_rss_mb_peak (bench/export_bench.py).
bench-export: install
	$(BIN)/python bench/export_bench.py --scale $(SCALE)

# tests/security/test_ops_deploy.py starts docs/deploy.md's topology: nginx (Debian's) in front.
proxy:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; } || { echo "the deployment test needs nginx: sudo apt-get install nginx-light"; exit 1; }
	@# tests/test_readme_api.py runs the README's curl flow, which reads the answers with jq.
	@{ command -v curl >/dev/null && command -v jq >/dev/null; } || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl jq >/dev/null; } || { echo "the README test needs curl and jq: sudo apt-get install curl jq"; exit 1; }

# tests/inbox/ read faxes and e-mails from a real IMAP server: Debian's dovecot, started by the tests
# on a free port with a temporary configuration (tests/inbox/dovecot.py).
mailserver:
	@command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; } || { echo "the inbox tests need dovecot: sudo apt-get install dovecot-imapd"; exit 1; }

demo: install
	$(BIN)/aftersales demo --seed 2026

# Recompile the translation catalogs after editing a .po file (needs GNU gettext's msgfmt).
messages: install
	cd src/aftersales && ../../$(BIN)/aftersales makemessages -l zh_Hans -l en --no-obsolete && ../../$(BIN)/aftersales compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache

# tests/cluster (the PostgreSQL pass) and `make cluster` start their own PostgreSQL primary + streaming
# replica and an HAProxy from Debian's packages.
pgserver:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || { echo "the cluster tests need PostgreSQL's server: sudo apt-get install postgresql"; exit 1; }
	@command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; } || { echo "the cluster needs HAProxy: sudo apt-get install haproxy"; exit 1; }

# The whole layout on one machine (bench/cluster.py): PostgreSQL primary + streaming replica, two web
# nodes, two workers, HAProxy on CLUSTER_PORT, with the demo's data. Ctrl+C stops it all.
CLUSTER_PORT ?= 8080
cluster: install pgserver
	$(BIN)/python bench/cluster.py up --port $(CLUSTER_PORT)

# The fault run at full size and the 1-node/2-node throughput: writes bench/cluster.json.
bench-cluster: install pgserver
	$(BIN)/python bench/cluster.py bench

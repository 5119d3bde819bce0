# Two commands: `make run` and `make test`. Everything they need is installed on first use.
SHELL := bash
TOOLS_DIR ?= $(HOME)/.cache/hailong-tools
export PATH := $(TOOLS_DIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

ADDR ?= 127.0.0.1:3000
export HAILONG_DATABASE_URL ?= sqlite://data/hailong.db
export HAILONG_ADMIN_TOKEN ?= demo-admin-token-for-the-api
export HAILONG_PUBLIC_URL ?= http://$(ADDR)
BIN := target/release/hailong

.PHONY: run test tools test-deps build unit-test lint e2e bench clean

## make run: build, create the database, load the demo province, serve on $(ADDR)
run: build
	@$(BIN) migrate
	@HAILONG_PAIRING_MINUTES=1440 $(BIN) demo
	@echo
	@echo "Mở trình duyệt / Open:"
	@echo "  Kiosk:  http://$(ADDR)/kiosk/pair, nhập một mã ghép nối ở trên, rồi khảo sát tại http://$(ADDR)/kiosk"
	@echo "  Quản trị tỉnh / Administration: http://$(ADDR)/admin/agencies  (tài khoản admin)"
	@echo "  Chỉ số / Indices: http://$(ADDR)/admin  (đăng nhập bằng một tài khoản demo ở trên)"
	@echo "  Mật khẩu demo dùng một lần: lần đăng nhập đầu, hệ thống yêu cầu chọn mật khẩu mới (ít nhất 10 ký tự)."
	@echo "  The demo passwords work once: at first login you are asked to choose a new password."
	@echo "  Gửi phiếu / Survey links: http://$(ADDR)/staff  (tài khoản motcua.ttpvhcc)"
	@echo "  API:    curl -H 'Authorization: Bearer $(HAILONG_ADMIN_TOKEN)' 'http://$(ADDR)/api/v1/indices?agency=PT'"
	@echo
	$(BIN) serve --addr $(ADDR)

## make test: every Rust test, lints, then the browser tests on the release build
test: tools test-deps lint unit-test build e2e

tools:
	@scripts/install-tools.sh

test-deps:
	@scripts/install-test-deps.sh

# First the surveys' own wasm (project `surveys` in Cargo.toml: what a kiosk or a phone loads,
# without the staff and admin pages), its .gz files redone at -9; then the site and the server.
# --precompress builds the site before the server (and adds .gz and .br files), so that the
# release binary embeds its styles, scripts and wasm (server/src/http/assets.rs). --split puts
# each staff and admin page in chunks of its own (app/src/app/every_page.rs); the surveys
# project passes it too, only so that both builds compile the crates with the same flags.
build: tools
	cargo leptos build --release --precompress --split --project surveys --frontend-only
	@for f in target/site-surveys/pkg/*.{js,wasm}; do gzip -9 -k -f "$$f"; done
	cargo leptos build --release --precompress --split --project hailong
	@scripts/bundle-size.sh

# The integration suite runs twice: on SQLite files, then on a throwaway PostgreSQL cluster
# (scripts/with-postgres.sh), each test in a database of its own. Only what is SQLite's alone
# (its migration history, `hailong backup`, the write-ahead-log replay) is left out of the second.
SQLITE_ONLY := migrations backup pairing
PG_TESTS := $(filter-out $(SQLITE_ONLY),$(basename $(notdir $(wildcard server/tests/*.rs))))
unit-test:
	cargo test -p app --features ssr
	cargo test -p server
	scripts/with-postgres.sh cargo test -p server $(addprefix --test ,$(PG_TESTS))

lint:
	cargo fmt --all -- --check
	cargo clippy -p app --features ssr --all-targets -- -D warnings
	cargo clippy -p server --all-targets -- -D warnings
	cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p app --features surveys --target wasm32-unknown-unknown -- -D warnings

e2e:
	cd end2end && npx playwright test

## make bench: the submit path against a raw-SQLite baseline, on SQLite and on PostgreSQL with 1
## and 3 servers; 200 SIGKILLs; the reports at scale on both engines
PG_BENCH := HAILONG_PG_DURABLE=1 scripts/with-postgres.sh
bench:
	cargo bench -p server --bench submit
	$(PG_BENCH) cargo bench -p server --bench submit
	BENCH_SERVERS=3 $(PG_BENCH) cargo bench -p server --bench submit
	HAILONG_KILL_ROUNDS=200 cargo test --release -p server --test durability -- --nocapture
	cargo bench -p server --bench reports
	$(PG_BENCH) cargo bench -p server --bench reports

clean:
	rm -rf target/site target/site-surveys target/e2e data

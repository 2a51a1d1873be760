# sioredis — make targets. `make test` is what CI runs (.ci/run).
GO        ?= go
NODE_DIR  := internal/nodepeer/testdata
# The legacy generations (socket.io-redis 4.0 / 5.4 / 6.1), each with its own lock file.
NODE_LEGACY_DIRS := internal/nodepeer/testdata-redis40 internal/nodepeer/testdata-redis5 internal/nodepeer/testdata-redis6
FUZZTIME  ?= 60s
BENCHTIME ?= 1s
# The integrations are modules of their own (their dependencies stay out of
# the core's go.mod); each is vetted and tested in its own directory.
MODULES   := $(patsubst %/,%,$(dir $(wildcard integrations/*/go.mod)))

.PHONY: all test tools redis-tools node-peers chromium chat chat-node frames vectors generate lint fuzz bench bench-compare bench-record bench-go curves profile clean

all: test

## test: install what the tests need, then vet and run every test (race detector on), of the core and of every module under integrations/.
test: tools
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	@echo "== allocation promises (without -race, which allocates)"
	$(GO) test -count=1 -run 'Alloc' ./codec ./shard ./engine
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 30m ./...); \
	done

## tools: redis-server/redis-cli, the Node peers and Chromium (the chat example's browser test); installs what is missing.
tools: redis-tools node-peers chromium

redis-tools:
	@if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then \
		echo "make: redis-server/redis-cli missing, installing with apt-get"; \
		if [ "$$(id -u)" != 0 ]; then echo "make: need root (or sudo) to apt-get install redis-server redis-tools" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null || \
			{ echo "make: could not install redis-server/redis-tools" >&2; exit 1; }; \
	fi
	@redis-server --version

# The system Chromium (Debian's chromium package) for the browser test of
# integrations/chat; nothing downloads a browser at run time.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && [ -z "$$CHROMIUM_BIN" ]; then \
		echo "make: chromium missing, installing with apt-get"; \
		if [ "$$(id -u)" != 0 ]; then echo "make: need root (or sudo) to apt-get install chromium" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
			{ echo "make: could not install chromium" >&2; exit 1; }; \
	fi
	@$${CHROMIUM_BIN:-$$(command -v chromium || command -v chromium-browser)} --version 2>/dev/null

## chat: the chat example as a cluster: its own redis-server, two Go chat servers (ports CHAT_PORTS, default 3000,3001); prints their URLs and how a Node server joins.
CHAT_PORTS ?= 3000,3001
chat: redis-tools
	cd integrations/chat && $(GO) run ./cmd/chat-cluster -ports $(CHAT_PORTS) $(CHAT_FLAGS)

## chat-node: the same, with the Node chat server (socket.io 4.8 + @socket.io/redis-adapter 8.3) as a third member.
chat-node: redis-tools node-peers
	cd integrations/chat && $(GO) run ./cmd/chat-cluster -ports $(CHAT_PORTS) -node $(CHAT_FLAGS)

node-peers:
	@command -v node >/dev/null 2>&1 || { echo "make: node (>= 18) and npm are required for the interop tests" >&2; exit 1; }
	@for d in $(NODE_DIR) $(NODE_LEGACY_DIRS); do \
		if [ ! -f $$d/node_modules/.package-lock.json ] || ! cmp -s $$d/package-lock.json $$d/node_modules/.package-lock.json.ci; then \
			echo "make: npm ci in $$d"; \
			(cd $$d && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.package-lock.json.ci) || exit 1; \
		fi; \
	done

## frames: re-capture codec/testdata/frames: the Engine.IO 3 frames that socket.io 2.4.1 and 1.7.4 send (internal/nodepeer/testdata-legacy/frames.js).
frames: node-peers
	cd internal/nodepeer/testdata-redis5 && node ../testdata-legacy/frames.js > ../../../codec/testdata/frames/eio3-socket.io-2.4.1.jsonl
	cd internal/nodepeer/testdata-redis40 && node ../testdata-legacy/frames.js > ../../../codec/testdata/frames/eio3-socket.io-1.7.4.jsonl

## vectors: re-capture the golden Redis vectors of every generation from the npm packages (internal/nodepeer/capture/capture.js) into VECTORS_OUT; compare with codec/testdata/vectors before copying anything over (see its README).
VECTORS_OUT ?= internal/nodepeer/capture/out
VECTOR_GENERATIONS := legacy-4.0.0 socket.io-redis-5.4.0 socket.io-redis-6.1.1 redis-adapter-8.3.0 sharded-8.3.0 emitter-5.1.0
vectors: tools
	@set -e; for g in $(VECTOR_GENERATIONS); do node internal/nodepeer/capture/capture.js --generation $$g --out $(VECTORS_OUT); done

## generate: regenerate the msgp marshallers (committed).
generate:
	$(GO) generate ./...

## lint: gofmt and go vet, of the core and of every module under integrations/ (whose go.mod/go.sum must be tidy).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && $(GO) vet ./... && $(GO) mod tidy -diff); \
	done

## fuzz: run every fuzz target for FUZZTIME each (default 60s), one after another.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; $(GO) test $$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

## bench: the load harness with its defaults: its own redis-server, two nodes broadcasting through it, a table (bench/doc.go; flags: go run ./bench -h).
bench: redis-tools
	$(GO) run ./bench $(BENCH_FLAGS)

## bench-compare: the harness with -compare: the raw rueidis ceiling, the Node adapter and latency at half rate, as ratios.
bench-compare: tools
	$(GO) run ./bench -compare $(BENCH_FLAGS)

## bench-record: the runs behind the README's Performance table, one after the other into bench/record/ (one .txt per scenario; about 10 minutes): -compare for every wire generation and subscription mode, 1 KiB payloads, a publisher that hosts no sockets, and the 3-master cluster.
RECORD_DIR ?= bench/record
RECORD_DURATION ?= 3s
RECORD_RUNS := \
	classic-pattern:-protocol=classic \
	classic-rooms:-protocol=classic,-subscriptions=rooms \
	classic-rooms-publisher-hosts-none:-protocol=classic,-subscriptions=rooms,-publisher-hosts-none \
	classic-pattern-1KiB:-protocol=classic,-payload=1024 \
	redis4:-protocol=redis4 \
	redis5:-protocol=redis5 \
	redis6:-protocol=redis6 \
	sharded-static:-protocol=sharded,-sharded-mode=static \
	sharded-dynamic:-protocol=sharded,-sharded-mode=dynamic \
	sharded-dynamic-private:-protocol=sharded,-sharded-mode=dynamic-private \
	sharded-dynamic-cluster:-protocol=sharded,-sharded-mode=dynamic,-cluster
bench-record: tools
	@mkdir -p $(RECORD_DIR)
	@set -e; for r in $(RECORD_RUNS); do \
		name=$${r%%:*}; flags=$$(echo $${r#*:} | tr ',' ' '); \
		echo "== $$name: go run ./bench $$flags -compare -duration $(RECORD_DURATION) -q"; \
		{ echo "# go run ./bench $$flags -compare -duration $(RECORD_DURATION) -q"; echo "# $$(git rev-parse --short HEAD) $$(date -u +%FT%TZ) load average $$(cut -d' ' -f1-3 /proc/loadavg)"; \
		  $(GO) run ./bench $$flags -compare -duration $(RECORD_DURATION) -q; } > $(RECORD_DIR)/$$name.txt 2>&1; \
		tail -n 12 $(RECORD_DIR)/$$name.txt; \
	done

## curves: the payload, latency-vs-rate and scale-out sweeps, engine and Node peer (go run ./bench -curves, about 3 minutes), drawn as SVG charts into bench/curves/ by integrations/benchcharts.
curves: redis-tools node-peers
	$(GO) run ./bench -curves bench/curves $(BENCH_FLAGS)
	cd integrations/benchcharts && $(GO) run . -in ../../bench/curves/curves.json -out ../../bench/curves

## bench-go: every Go benchmark, with allocations.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## profile: the standard profiling scenario (bench defaults, one process per node); writes profiles/ (see profiles/README.md).
profile: redis-tools
	$(GO) run ./bench -procs -profile-dir profiles $(BENCH_FLAGS) > profiles/run.txt; status=$$?; cat profiles/run.txt; exit $$status

clean:
	rm -rf $(NODE_DIR)/node_modules $(addsuffix /node_modules,$(NODE_LEGACY_DIRS))

# The default target builds the replica (the course harness runs `make` before ./3700kvstore).
.PHONY: all build test clean

all: build

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch node_modules

build: node_modules
	node scripts/build.cjs

test: node_modules
	npm test

clean:
	rm -rf dist

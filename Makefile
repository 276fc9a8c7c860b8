# The two commands of the README. Each installs what is missing first.
SWIFT ?= swift

.PHONY: deps suite test bench

deps:
	@scripts/ensure-deps

# The default experiment suite: every snippet, from a release build.
suite: deps
	$(SWIFT) build -c release --product mairlab --static-swift-stdlib
	.build/release/mairlab run

# The benchmark against raw Unicorn (Benchmarks/README.md); not part of the tests.
bench: deps
	$(SWIFT) build -c release --product mairlab --static-swift-stdlib
	.build/release/mairlab bench

test: deps
	$(SWIFT) test

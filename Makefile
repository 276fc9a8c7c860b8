# The two commands of the README. Each installs what is missing first.
SWIFT ?= swift
# The release binary: the Swift runtime linked in (a start without loading it), at a fixed
# address and exporting nothing (no relative relocations of ours for the dynamic loader to
# apply, no executable symbol table searched first for every libunicorn symbol). Only with the
# static runtime: against the shared one a fixed-address binary gets loader warnings.
RELEASE = $(SWIFT) build -c release --product mairlab --static-swift-stdlib -Xlinker --no-pie -Xlinker --no-export-dynamic

.PHONY: deps suite test bench

deps:
	@scripts/ensure-deps

# The default experiment suite: every snippet, from a release build.
suite: deps
	$(RELEASE)
	.build/release/mairlab run

# The benchmark against raw Unicorn (Benchmarks/README.md); not part of the tests.
bench: deps
	$(RELEASE)
	.build/release/mairlab bench

test: deps
	$(SWIFT) test

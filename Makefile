# The two commands of the README. Each installs what is missing first.
SWIFT ?= swift

.PHONY: deps suite test

deps:
	@scripts/ensure-deps

# The default experiment suite: every snippet.
suite: deps
	$(SWIFT) build --product mairlab
	$(SWIFT) run mairlab run

test: deps
	$(SWIFT) test

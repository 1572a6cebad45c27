# The one test command (README): formatting, vet, build, and every mock and policy test.
.PHONY: test fmt-check vet build unit lint-workflows bench e2e demo demo-down

test: fmt-check vet build lint-workflows unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

build:
	go build ./...

unit:
	go test -count=1 ./...

# actionlint is pinned in tools/lint/go.mod and built from source by the go command.
lint-workflows:
	go -C tools/lint run github.com/rhysd/actionlint/cmd/actionlint $(CURDIR)/.github/workflows/*.yml

bench:
	go test -run '^$$' -bench . -benchmem ./tests/

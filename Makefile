# The one test command (README): formatting, vet, build, and every mock and policy test.
.PHONY: test fmt-check vet build unit bench

test: fmt-check vet build unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

build:
	go build ./...

unit:
	go test -count=1 ./...

bench:
	go test -run '^$$' -bench . -benchmem ./tests/

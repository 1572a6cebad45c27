# The one test command (README): formatting, vet, build, and every mock and policy test.
.PHONY: test fmt-check vet build unit lint-workflows bench e2e e2e-simulated e2e-realpods demo demo-down

test: fmt-check vet build lint-workflows unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...
	go vet -tags e2e ./tests/e2e/
	go vet -tags realpods ./tests/e2e/realpods/

build:
	go build ./...

unit:
	go test -count=1 ./...

# actionlint is pinned in tools/lint/go.mod and built from source by the go command.
lint-workflows:
	go -C tools/lint run github.com/rhysd/actionlint/cmd/actionlint $(CURDIR)/.github/workflows/*.yml

bench:
	go test -run '^$$' -bench . -benchmem ./tests/

# End-to-end, both tiers. The simulated one: real Pulumi engine and Kubernetes provider
# against a real kube-apiserver with a simulated node. The first run takes the pinned tools (tests/e2e/env/versions.env) from their
# official releases, or builds them from the Go module proxy where those are out of reach
# (README, Test); they are cached in ~/.cache/wso2-apim-e2e after.
e2e: e2e-simulated e2e-realpods

e2e-simulated:
	tests/e2e/run.sh

# The real-pods tier: the same stack with stand-in images on a real node (containerd, kubelet,
# kube-proxy) in a private network namespace; rollouts and the HPA under real traffic. Root,
# directly or through sudo. See README.md, Test, "Tier 3: real pods".
e2e-realpods:
	tests/e2e/realpods/run.sh

# A demo with no cloud account: deploy the local stack into a loopback control plane.
demo:
	tests/e2e/demo.sh up

demo-down:
	tests/e2e/demo.sh down

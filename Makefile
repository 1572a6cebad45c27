# The one test command (README, Test): formatting, vet, build, and every mock and policy test.
.PHONY: test fmt-check vet build unit lint-workflows bench e2e e2e-simulated e2e-realpods e2e-restore demo demo-down

test: fmt-check vet build lint-workflows unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The component package and its TypeScript check are Go modules of their own
# (cmd/pulumi-resource-wso2apim: docs/components.md, "Use it from TypeScript, Python or YAML").
PACKAGE := cmd/pulumi-resource-wso2apim
# So is the end-to-end suite (tests/e2e/go.mod): its Kubernetes client modules stay out of the
# product's module graph.
E2E := tests/e2e

vet:
	go vet ./...
	go -C $(E2E) vet ./...
	go -C $(E2E) vet -tags e2e .
	go -C $(E2E) vet -tags realpods ./realpods/
	go -C $(E2E) vet -tags restore ./restore/
	go -C $(PACKAGE) vet ./...
	go -C $(PACKAGE)/sdk-test vet ./...

build:
	go build ./...
	go -C $(PACKAGE) build -o /dev/null .
	go -C $(E2E) build ./...

# The TypeScript check runs verbosely so that its skip (npm unreachable) is seen.
unit:
	go test -count=1 ./...
	go -C $(E2E) test -count=1 ./...
	go -C $(PACKAGE) test -count=1 ./...
	go -C $(PACKAGE)/sdk-test test -count=1 -v ./...

# actionlint is pinned in tools/lint/go.mod and built from source by the go command.
lint-workflows:
	go -C tools/lint run github.com/rhysd/actionlint/cmd/actionlint $(CURDIR)/.github/workflows/*.yml

bench:
	go test -run '^$$' -bench . -benchmem ./tests/

# End-to-end, both tiers. The simulated one: real Pulumi engine and Kubernetes provider
# against a real kube-apiserver with a simulated node. The first run takes the pinned tools (tests/e2e/env/versions.env) from their
# official releases, or builds them from the Go module proxy where those are out of reach
# (docs/testing.md); they are cached in ~/.cache/wso2-apim-e2e after.
e2e: e2e-simulated e2e-restore e2e-realpods

e2e-simulated:
	tests/e2e/run.sh

# The real-pods tier: the same stack with stand-in images on a real node (containerd, kubelet,
# kube-proxy) in a private network namespace; rollouts and the HPA under real traffic. Root,
# directly or through sudo. See docs/testing.md, "Tier 3: real pods".
e2e-realpods:
	tests/e2e/realpods/run.sh

# The restore drill: MariaDB built from Debian's packages (mmdebstrap, cached in
# ~/.cache/wso2-apim-e2e/images), dumped by the backup CronJob's own script, broken, restored
# with tools/restore-mysql.sh and checked table by table; prints the recovery point and time.
# Root (it chroots into the image's root filesystem); needs mmdebstrap and mariadb-client.
e2e-restore:
	go -C $(E2E) test -tags restore -count=1 -v -timeout 30m ./restore/

# A demo with no cloud account: deploy the local stack into a loopback control plane.
demo:
	tests/e2e/demo.sh up

demo-down:
	tests/e2e/demo.sh down

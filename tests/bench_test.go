package tests

import (
	"runtime"
	"testing"
	"time"

	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// BenchmarkProdStack evaluates the whole prod program under mocks. Budget: under 1 s and
// 200 MB allocated per evaluation (go test -bench . -benchmem ./tests/).
func BenchmarkProdStack(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		g, err := harness.Run(stacks.Program, "prod", harness.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(g.All()) == 0 {
			b.Fatal("prod stack registered nothing")
		}
	}
}

// TestProdStackWithinBudget holds the benchmark's budget in every test run, with a wide
// margin so that a loaded CI machine does not make it flaky.
func TestProdStackWithinBudget(t *testing.T) {
	const runs = 5
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range runs {
		if _, err := harness.Run(stacks.Program, "prod", harness.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	perRun := time.Since(start) / runs
	runtime.ReadMemStats(&after)
	allocMB := float64(after.TotalAlloc-before.TotalAlloc) / runs / 1e6
	t.Logf("prod stack under mocks: %v and %.1f MB allocated per evaluation", perRun, allocMB)
	if perRun > time.Second {
		t.Errorf("evaluating the prod stack took %v; budget is 1s", perRun)
	}
	if allocMB > 200 {
		t.Errorf("evaluating the prod stack allocated %.1f MB; budget is 200 MB", allocMB)
	}
}

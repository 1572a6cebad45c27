//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/stretchr/testify/require"
)

// policyPack is what `--policy-pack` names: the pack's directory, which the CLI builds and runs
// with its Go language host; or, without one (the suite's CLI is built from the module proxy,
// which does not serve the host's module), the pack built from that directory by run.sh
// (E2E_POLICY_PACK), which the CLI runs as a binary analyzer, next to a copy of its
// PulumiPolicy.yaml. Either way the CLI speaks the analyzer protocol to the same code.
func policyPack(t *testing.T, root string) string {
	t.Helper()
	if _, err := exec.LookPath("pulumi-language-go"); err == nil {
		return filepath.Join(root, "policy")
	}
	bin := os.Getenv("E2E_POLICY_PACK")
	require.NotEmpty(t, bin, "no Go language host on PATH, and no built pack in E2E_POLICY_PACK (tests/e2e/run.sh builds it)")
	_, err := os.Stat(bin)
	require.NoError(t, err, "E2E_POLICY_PACK")
	return bin
}

// policyReport is what the policy pack told the engine during one operation.
type policyReport struct {
	// findings are "<level> <policy>: <message>", sorted.
	findings []string
	// passed and failed are the stack policies AnalyzeStack ran, by outcome.
	passed, failed []string
}

// policyEvents returns a channel for EventStreams and a function that waits for the
// operation's events to end and returns what the pack reported.
func policyEvents() (chan events.EngineEvent, func() policyReport) {
	ch := make(chan events.EngineEvent)
	done := make(chan policyReport)
	go func() {
		var r policyReport
		for ev := range ch {
			if p := ev.PolicyEvent; p != nil {
				// The pack prefixes each message with its policy's description.
				_, msg, _ := strings.Cut(p.Message, "\n")
				r.findings = append(r.findings, fmt.Sprintf("%s %s: %s", p.EnforcementLevel, p.PolicyName, strings.TrimSpace(msg)))
			}
			if s := ev.PolicyAnalyzeStackSummaryEvent; s != nil {
				r.passed = append(r.passed, s.Passed...)
				r.failed = append(r.failed, s.Failed...)
			}
		}
		sort.Strings(r.findings)
		done <- r
	}()
	return ch, func() policyReport { return <-done }
}

// print shows the findings in the suite's log.
func (r policyReport) print() {
	fmt.Printf("POLICY PACK: %d stack policies passed, failed: %v\n", len(r.passed), r.failed)
	for _, f := range r.findings {
		fmt.Printf("  %s\n", f)
	}
}

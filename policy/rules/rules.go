package rules

import (
	"fmt"
	"sort"
)

// Env says what the resources are for.
type Env struct {
	// Production turns on the rules that only production needs (pinned images, protected
	// state, no placeholder networks).
	Production bool
}

// Enforcement is what a broken rule does to a deployment.
type Enforcement int

const (
	// Mandatory stops the deployment: data loss, leaked secrets, weakened isolation, or a
	// change the cloud would refuse half-way through.
	Mandatory Enforcement = iota
	// Advisory is reported and left to the user: operational quality they may trade away.
	Advisory
)

func (e Enforcement) String() string {
	if e == Advisory {
		return "advisory"
	}
	return "mandatory"
}

// Rule is one invariant.
type Rule struct {
	Name        string
	Description string
	Enforcement Enforcement
	Check       func(g Graph, env Env, r *Report)
}

// Finding is one rule broken by one resource, or one the rule could not judge.
type Finding struct {
	Rule    string
	Message string
	// Unjudged: a value the verdict depends on is not known yet (at preview, an output of a
	// resource still to be created). Neither a pass nor a violation.
	Unjudged bool
}

func (f Finding) String() string {
	if f.Unjudged {
		return f.Rule + ": cannot judge: " + f.Message
	}
	return f.Rule + ": " + f.Message
}

// Report collects one rule's findings.
type Report struct {
	rule     string
	findings []Finding
}

// Violation records a broken invariant.
func (r *Report) Violation(format string, args ...any) {
	r.findings = append(r.findings, Finding{Rule: r.rule, Message: fmt.Sprintf(format, args...)})
}

// CannotJudge records a verdict that waits for a value the engine does not know yet.
func (r *Report) CannotJudge(format string, args ...any) {
	r.findings = append(r.findings, Finding{Rule: r.rule, Message: fmt.Sprintf(format, args...), Unjudged: true})
}

// known reports whether every path of res is known, and records that the rule cannot judge
// res otherwise.
func (r *Report) known(res Resource, paths ...string) bool {
	for _, p := range paths {
		if IsUnknown(res.Get(p)) {
			r.CannotJudge("%s: %s is not known until the change is applied", id(res), p)
			return false
		}
	}
	return true
}

// knownIn is known for the keys of one map inside res (a container, say), described by what.
func (r *Report) knownIn(what string, m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if IsUnknown(m[k]) {
			r.CannotJudge("%s: %s is not known until the change is applied", what, k)
			return false
		}
	}
	return true
}

// Run runs one rule and returns its findings, sorted.
func (rule Rule) Run(g Graph, env Env) []Finding {
	rep := &Report{rule: rule.Name}
	rule.Check(g, env, rep)
	sort.Slice(rep.findings, func(i, j int) bool { return rep.findings[i].String() < rep.findings[j].String() })
	return rep.findings
}

// Check runs every rule and returns the findings, sorted.
func Check(g Graph, env Env) []Finding {
	var out []Finding
	for _, r := range Rules {
		out = append(out, r.Run(g, env)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Rules are all the invariants, in the order they are reported.
var Rules = []Rule{
	{"resources-and-probes", "every container has CPU, memory and ephemeral-storage requests and limits; every long-running container has readiness and liveness probes, and they differ", Advisory, resourcesAndProbes},
	{"zero-downtime-rollout", "every Deployment behind a Service rolls with RollingUpdate and maxUnavailable 0", Advisory, zeroDowntimeRollout},
	{"pinned-images", "in production no image is untagged or :latest", Mandatory, pinnedImages},
	{"hpa-bounds", "every HorizontalPodAutoscaler has maxReplicas > minReplicas and a metric target", Advisory, hpaBounds},
	{"no-plaintext-secrets", "no password or key literal in a ConfigMap or container env; Secret values are Pulumi secrets", Mandatory, noPlaintextSecrets},
	{"protected-state", "in production everything that holds data is protected from deletion", Mandatory, protectedState},
	{"no-placeholder-networks", "in production no cluster admits a documentation address range (RFC 5737) to its control plane", Mandatory, placeholderNetworks},
	{"private-endpoint-authorized-networks", "a cluster with a private endpoint has master authorized networks enabled, and one with a public endpoint does not enable them empty", Mandatory, authorizedNetworks},
	{"vpc-ranges-disjoint", "the subnetworks' ranges, a private control plane's range and Filestore's reserved range never overlap", Mandatory, vpcRanges},
	{"filestore-sizes", "every Filestore share is a size its tier offers, with the reserved range size the tier takes", Mandatory, filestoreSizes},
	{"explicit-provider", "every cloud and Kubernetes resource uses an explicit provider of its package", Mandatory, explicitProvider},
	{"standard-labels", "every Kubernetes object and pod template carries the app.kubernetes.io labels", Advisory, standardLabels},
	{"drain-outlasted", "every pod behind a GKE backend with connection draining keeps serving (preStop) at least the draining time plus the endpoint propagation margin, and its grace period outlasts the preStop", Advisory, drainOutlasted},
	{"restricted-pods", "every pod runs as non-root with the RuntimeDefault seccomp profile, and every container, init containers too, without privilege escalation and with every capability dropped; only pods in a namespace the program labels for a lower Pod Security level are exempt", Mandatory, restrictedPods},
}

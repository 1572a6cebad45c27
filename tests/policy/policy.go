package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// Env says what the graph is for.
type Env struct {
	// Production turns on the rules that only production needs (pinned images, protected
	// state).
	Production bool
}

// Rule is one invariant.
type Rule struct {
	Name        string
	Description string
	Check       func(g *harness.Graph, env Env) []string
}

// Violation is one rule broken by one resource.
type Violation struct {
	Rule    string
	Message string
}

func (v Violation) String() string { return v.Rule + ": " + v.Message }

// Check runs every rule and returns the violations, sorted.
func Check(g *harness.Graph, env Env) []Violation {
	var out []Violation
	for _, r := range Rules {
		for _, m := range r.Check(g, env) {
			out = append(out, Violation{Rule: r.Name, Message: m})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// RolloutExemption on a Deployment's metadata exempts it from zero-downtime-rollout, with the
// reason as its value (e.g. a ReadWriteOnce volume that two pods cannot share).
const RolloutExemption = "wso2apim.io/rollout-exemption"

const (
	typeDeployment  = "kubernetes:apps/v1:Deployment"
	typeStatefulSet = "kubernetes:apps/v1:StatefulSet"
	typeService     = "kubernetes:core/v1:Service"
	typeConfigMap   = "kubernetes:core/v1:ConfigMap"
	typeSecret      = "kubernetes:core/v1:Secret"
	typeHPA         = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
)

// Rules are all the invariants, in the order they are reported.
var Rules = []Rule{
	{"resources-and-probes", "every container has CPU, memory and ephemeral-storage requests and limits; every long-running container has readiness and liveness probes, and they differ", resourcesAndProbes},
	{"zero-downtime-rollout", "every Deployment behind a Service rolls with RollingUpdate and maxUnavailable 0", zeroDowntimeRollout},
	{"pinned-images", "in production no image is untagged or :latest", pinnedImages},
	{"hpa-bounds", "every HorizontalPodAutoscaler has maxReplicas > minReplicas and a metric target", hpaBounds},
	{"no-plaintext-secrets", "no password or key literal in a ConfigMap or container env; Secret values are Pulumi secrets", noPlaintextSecrets},
	{"protected-state", "in production everything that holds data is protected from deletion", protectedState},
	{"no-placeholder-networks", "in production no cluster admits a documentation address range (RFC 5737) to its control plane", placeholderNetworks},
	{"explicit-provider", "every cloud and Kubernetes resource uses an explicit provider of its package", explicitProvider},
	{"standard-labels", "every Kubernetes object and pod template carries the app.kubernetes.io labels", standardLabels},
}

func id(r *harness.Resource) string { return r.Type + " " + r.Name }

func workloads(g *harness.Graph) []*harness.Resource {
	return append(g.OfType(typeDeployment), g.OfType(typeStatefulSet)...)
}

// podOwners are the workloads plus Jobs: everything whose pods take a node's resources.
func podOwners(g *harness.Graph) []*harness.Resource {
	return append(workloads(g), g.OfType("kubernetes:batch/v1:Job")...)
}

func containers(r *harness.Resource, field string) []map[string]any {
	list, _ := r.Get("spec.template.spec." + field).([]any)
	var out []map[string]any
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[p]
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func resourcesAndProbes(g *harness.Graph, _ Env) []string {
	var out []string
	for _, w := range podOwners(g) {
		long := w.Type != "kubernetes:batch/v1:Job"
		for _, field := range []string{"initContainers", "containers"} {
			for _, c := range containers(w, field) {
				name := str(c, "name")
				for _, q := range []string{"requests", "limits"} {
					// Without ephemeral storage, a container that fills the node's disk
					// (logs, temp files) gets other pods evicted instead of itself.
					for _, res := range []string{"cpu", "memory", "ephemeral-storage"} {
						if str(c, "resources", q, res) == "" {
							out = append(out, fmt.Sprintf("%s: container %s has no %s.%s", id(w), name, q, res))
						}
					}
				}
				if field == "containers" && long {
					for _, probe := range []string{"readinessProbe", "livenessProbe"} {
						if c[probe] == nil {
							out = append(out, fmt.Sprintf("%s: container %s has no %s", id(w), name, probe))
						}
					}
					// The same check for both restarts a pod that is only busy: readiness
					// should take it out of rotation first.
					if c["readinessProbe"] != nil && probeAction(c["readinessProbe"]) == probeAction(c["livenessProbe"]) {
						out = append(out, fmt.Sprintf("%s: container %s checks the same thing for readiness and liveness (%s)", id(w), name, probeAction(c["livenessProbe"])))
					}
				}
			}
		}
	}
	return out
}

// probeAction is what a probe checks (its handler), without its timings.
func probeAction(p any) string {
	m, _ := p.(map[string]any)
	for _, h := range []string{"httpGet", "tcpSocket", "exec", "grpc"} {
		if v, ok := m[h]; ok {
			return fmt.Sprintf("%s %v", h, v)
		}
	}
	return ""
}

// selects reports whether a Service's selector picks the pods of a workload.
func selects(svc, w *harness.Resource) bool {
	sel, _ := svc.Get("spec.selector").(map[string]any)
	labels, _ := w.Get("spec.template.metadata.labels").(map[string]any)
	if len(sel) == 0 || svc.String("metadata.namespace") != w.String("metadata.namespace") {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func zeroDowntimeRollout(g *harness.Graph, _ Env) []string {
	var out []string
	for _, d := range g.OfType(typeDeployment) {
		served := false
		for _, svc := range g.OfType(typeService) {
			served = served || selects(svc, d)
		}
		if !served || d.String("metadata.annotations["+RolloutExemption+"]") != "" {
			continue
		}
		if d.String("spec.strategy.type") != "RollingUpdate" {
			out = append(out, fmt.Sprintf("%s: serves traffic but its strategy is %q, not RollingUpdate", id(d), d.String("spec.strategy.type")))
			continue
		}
		if mu := d.String("spec.strategy.rollingUpdate.maxUnavailable"); mu != "0" && mu != "0%" {
			out = append(out, fmt.Sprintf("%s: serves traffic but maxUnavailable is %q; want 0", id(d), mu))
		}
	}
	return out
}

var digestRe = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// ImageIsPinned reports whether an image names a version (a tag other than latest, or a
// digest).
func ImageIsPinned(image string) bool {
	if digestRe.MatchString(image) {
		return true
	}
	slash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	return colon > slash && image[colon+1:] != "latest"
}

func pinnedImages(g *harness.Graph, env Env) []string {
	if !env.Production {
		return nil
	}
	var out []string
	for _, w := range workloads(g) {
		for _, field := range []string{"initContainers", "containers"} {
			for _, c := range containers(w, field) {
				if img := str(c, "image"); !ImageIsPinned(img) {
					out = append(out, fmt.Sprintf("%s: container %s uses image %q; pin a version", id(w), str(c, "name"), img))
				}
			}
		}
	}
	return out
}

func hpaBounds(g *harness.Graph, _ Env) []string {
	var out []string
	for _, h := range g.OfType(typeHPA) {
		min := 1.0
		if v, ok := h.Get("spec.minReplicas").(float64); ok {
			min = v
		}
		max, _ := h.Get("spec.maxReplicas").(float64)
		if max <= min {
			out = append(out, fmt.Sprintf("%s: maxReplicas %v is not greater than minReplicas %v", id(h), max, min))
		}
		if m, _ := h.Get("spec.metrics").([]any); len(m) == 0 {
			out = append(out, fmt.Sprintf("%s: has no metric target", id(h)))
		}
	}
	return out
}

var (
	sensitiveName = regexp.MustCompile(`(?i)(password|passwd|secret|token|api_?key|private_?key|encryption_?key)`)
	// A literal assignment in a config file: key = "value" or key: value, where the value is
	// not a reference such as $env{...}, $ref{...} or ${...}.
	literalAssignment = regexp.MustCompile(`(?im)^\s*['"]?[\w.-]*(password|secret|token|apikey|api_key|moesifkey)['"]?\s*[=:]\s*"?([^"$\s][^"\s]*)`)
)

func noPlaintextSecrets(g *harness.Graph, _ Env) []string {
	var out []string
	for _, cm := range g.OfType(typeConfigMap) {
		data, _ := cm.Get("data").(map[string]any)
		for _, k := range sortedKeys(data) {
			if m := literalAssignment.FindStringSubmatch(fmt.Sprint(data[k])); m != nil {
				out = append(out, fmt.Sprintf("%s: data %s assigns a literal to %s", id(cm), k, strings.TrimSpace(strings.SplitN(m[0], "=", 2)[0])))
			}
		}
	}
	for _, w := range workloads(g) {
		for _, field := range []string{"initContainers", "containers"} {
			for _, c := range containers(w, field) {
				envs, _ := c["env"].([]any)
				for _, e := range envs {
					ev, _ := e.(map[string]any)
					if sensitiveName.MatchString(str(ev, "name")) && ev["value"] != nil {
						out = append(out, fmt.Sprintf("%s: container %s env %s is a literal; read it from a Secret", id(w), str(c, "name"), str(ev, "name")))
					}
				}
			}
		}
	}
	for _, s := range g.OfType(typeSecret) {
		for _, field := range []string{"data", "stringData"} {
			m, _ := s.Get(field).(map[string]any)
			for _, k := range sortedKeys(m) {
				if !s.IsSecret(field + "." + k) {
					out = append(out, fmt.Sprintf("%s: %s.%s is not a Pulumi secret, so it is stored in plain text in state", id(s), field, k))
				}
			}
		}
	}
	return out
}

// StatefulTypes hold data that a deletion or replacement would lose.
var StatefulTypes = []string{
	typeStatefulSet,
	"kubernetes:core/v1:PersistentVolume",
	"kubernetes:core/v1:PersistentVolumeClaim",
	"gcp:compute/disk:Disk",
	"gcp:filestore/instance:Instance",
	"gcp:container/cluster:Cluster",
	"gcp:kms/keyRing:KeyRing",
	"gcp:kms/cryptoKey:CryptoKey",
}

// documentationRanges are RFC 5737's TEST-NET ranges: placeholders, never a real client.
var documentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
}

func placeholderNetworks(g *harness.Graph, env Env) []string {
	if !env.Production {
		return nil
	}
	var out []string
	for _, c := range g.OfType("gcp:container/cluster:Cluster") {
		blocks, _ := c.Get("masterAuthorizedNetworksConfig.cidrBlocks").([]any)
		for _, b := range blocks {
			cidr := str(b.(map[string]any), "cidrBlock")
			pfx, err := netip.ParsePrefix(cidr)
			if err != nil {
				continue
			}
			for _, doc := range documentationRanges {
				if doc.Overlaps(pfx) {
					out = append(out, fmt.Sprintf("%s: master authorized network %s is a documentation range: nothing real can reach the control plane", id(c), cidr))
				}
			}
		}
	}
	return out
}

func protectedState(g *harness.Graph, env Env) []string {
	if !env.Production {
		return nil
	}
	var out []string
	// A namespace's deletion deletes its claims (and, with a Delete reclaim policy, their
	// disks), whatever protects the objects inside.
	claims := map[string]string{}
	for _, t := range StatefulTypes {
		for _, r := range g.OfType(t) {
			if !r.Protect {
				out = append(out, fmt.Sprintf("%s: holds data but is not protected", id(r)))
			}
			holds := r.Type == "kubernetes:core/v1:PersistentVolumeClaim" || r.Get("spec.volumeClaimTemplates") != nil
			if ns := r.String("metadata.namespace"); holds && ns != "" && claims[ns] == "" {
				claims[ns] = id(r)
			}
		}
	}
	for _, ns := range g.OfType("kubernetes:core/v1:Namespace") {
		if holder := claims[ns.String("metadata.name")]; holder != "" && !ns.Protect {
			out = append(out, fmt.Sprintf("%s: deleting it deletes the claims of %s, but it is not protected", id(ns), holder))
		}
	}
	return out
}

func explicitProvider(g *harness.Graph, _ Env) []string {
	var out []string
	for _, r := range g.All() {
		pkg, _, _ := strings.Cut(r.Type, ":")
		if !r.Custom || (pkg != "kubernetes" && pkg != "gcp") {
			continue
		}
		p := g.ProviderOf(r)
		switch {
		case p == nil:
			out = append(out, fmt.Sprintf("%s: uses the default provider (ambient credentials and context)", id(r)))
		case p.Type != "pulumi:providers:"+pkg:
			out = append(out, fmt.Sprintf("%s: uses provider %s of another package", id(r), id(p)))
		}
	}
	return out
}

// RequiredLabels are the app.kubernetes.io labels every object carries.
var RequiredLabels = []string{"app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"}

// RequiredPodLabels are the labels every pod template carries in addition.
var RequiredPodLabels = []string{"app.kubernetes.io/name", "app.kubernetes.io/component"}

func standardLabels(g *harness.Graph, _ Env) []string {
	var out []string
	for _, r := range g.WithPrefix("kubernetes:") {
		for _, l := range RequiredLabels {
			if r.String("metadata.labels["+l+"]") == "" {
				out = append(out, fmt.Sprintf("%s: no label %s", id(r), l))
			}
		}
	}
	for _, w := range workloads(g) {
		for _, l := range append(RequiredPodLabels, RequiredLabels...) {
			if w.String("spec.template.metadata.labels["+l+"]") == "" {
				out = append(out, fmt.Sprintf("%s: pod template has no label %s", id(w), l))
			}
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PartOf is the app.kubernetes.io/part-of value of everything this project deploys.
const PartOf = "wso2-apim"

// Compute is CPU, memory and ephemeral storage (the node's disk: logs, temporary files,
// emptyDirs) in Kubernetes quantity syntax, e.g. "2" / "2000m", "2Gi" / "2048Mi".
type Compute struct {
	CPU              string `json:"cpu"`
	Memory           string `json:"memory"`
	EphemeralStorage string `json:"ephemeralStorage"`
}

// Resources are a container's requests and limits.
type Resources struct {
	Requests Compute `json:"requests"`
	Limits   Compute `json:"limits"`
}

// WithDefaults fills each empty quantity from def.
func (r Resources) WithDefaults(def Resources) Resources {
	if r.Requests.CPU == "" {
		r.Requests.CPU = def.Requests.CPU
	}
	if r.Requests.Memory == "" {
		r.Requests.Memory = def.Requests.Memory
	}
	if r.Limits.CPU == "" {
		r.Limits.CPU = def.Limits.CPU
	}
	if r.Limits.Memory == "" {
		r.Limits.Memory = def.Limits.Memory
	}
	if r.Requests.EphemeralStorage == "" {
		r.Requests.EphemeralStorage = def.Requests.EphemeralStorage
	}
	if r.Limits.EphemeralStorage == "" {
		r.Limits.EphemeralStorage = def.Limits.EphemeralStorage
	}
	return r
}

// Args renders the requirements for a container spec. GKE evicts a pod that writes more to the
// node's disk than it asked for, so every container states its ephemeral storage too.
func (r Resources) Args() *corev1.ResourceRequirementsArgs {
	m := func(c Compute) pulumi.StringMap {
		out := pulumi.StringMap{"cpu": pulumi.String(c.CPU), "memory": pulumi.String(c.Memory)}
		if c.EphemeralStorage != "" {
			out["ephemeral-storage"] = pulumi.String(c.EphemeralStorage)
		}
		return out
	}
	return &corev1.ResourceRequirementsArgs{Requests: m(r.Requests), Limits: m(r.Limits)}
}

var (
	memoryRe = regexp.MustCompile(`^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$`)
	cpuRe    = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?|[0-9]+m)$`)
)

// MemoryBytes parses a memory quantity in the forms this project accepts (a whole number with
// an optional binary or decimal suffix).
func MemoryBytes(q string) (int64, error) {
	m := memoryRe.FindStringSubmatch(q)
	if m == nil {
		return 0, fmt.Errorf("%q is not a memory quantity such as 2Gi or 512Mi", q)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	mult := map[string]int64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}[m[2]]
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large a memory quantity", q)
	}
	return n * mult, nil
}

// MilliCPU parses a CPU quantity ("2", "1.5", "500m") into millicores.
func MilliCPU(q string) (int64, error) {
	if !cpuRe.MatchString(q) {
		return 0, fmt.Errorf("%q is not a CPU quantity such as 2 or 500m", q)
	}
	if q[len(q)-1] == 'm' {
		return strconv.ParseInt(q[:len(q)-1], 10, 64)
	}
	// Whole and fractional digits apart: a float would turn 1.001 into 1000.999...
	whole, frac, _ := strings.Cut(q, ".")
	cores, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || cores > math.MaxInt64/1000 {
		return 0, fmt.Errorf("%q is too large a CPU quantity", q)
	}
	frac = (frac + "000")[:3] // millicores; finer digits cannot be scheduled anyway
	milli, _ := strconv.ParseInt(frac, 10, 64)
	return cores*1000 + milli, nil
}

// Labels are the app.kubernetes.io labels of one workload; extra labels are merged last so
// the caller wins.
func Labels(name, component, version string, extra map[string]string) map[string]string {
	l := map[string]string{
		"app.kubernetes.io/name":       name,
		"app.kubernetes.io/component":  component,
		"app.kubernetes.io/part-of":    PartOf,
		"app.kubernetes.io/managed-by": "pulumi",
	}
	if version != "" {
		l["app.kubernetes.io/version"] = version
	}
	maps.Copy(l, extra)
	return l
}

// Selector is the immutable subset of Labels used in selectors: it must never include
// labels that change (such as the version), or an upgrade would need a replacement.
func Selector(name, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      name,
		"app.kubernetes.io/component": component,
	}
}

// Meta builds object metadata with a fixed name (so in-cluster DNS names are stable and
// known at plan time) in a namespace.
func Meta(name string, namespace pulumi.StringInput, labels map[string]string) *metav1.ObjectMetaArgs {
	return &metav1.ObjectMetaArgs{
		Name:      pulumi.String(name),
		Namespace: namespace,
		Labels:    pulumi.ToStringMap(labels),
	}
}

// Checksum is the sha256 of rendered configuration, put on a pod template so that a change
// to the configuration rolls the pods.
func Checksum(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ContainerSecurity is the restricted Pod Security Standard for one container: non-root,
// no privilege escalation, every capability dropped, read-only root when asked.
func ContainerSecurity(uid int, readOnlyRoot bool) *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		RunAsUser:                pulumi.Int(uid),
		RunAsGroup:               pulumi.Int(uid),
		RunAsNonRoot:             pulumi.Bool(true),
		AllowPrivilegeEscalation: pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(readOnlyRoot),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// PodSecurity is the pod-level counterpart: fsGroup makes mounted volumes writable by uid.
func PodSecurity(uid int) *corev1.PodSecurityContextArgs {
	return &corev1.PodSecurityContextArgs{
		RunAsUser:      pulumi.Int(uid),
		RunAsGroup:     pulumi.Int(uid),
		FsGroup:        pulumi.Int(uid),
		RunAsNonRoot:   pulumi.Bool(true),
		SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// NodeSpread says how strictly replicas of one workload keep to different nodes.
type NodeSpread string

const (
	// SpreadNodesRequired never puts two replicas on one node (whenUnsatisfiable
	// DoNotSchedule): with a cluster autoscaler a replica waits for a new node rather than
	// share one, so losing a node loses one replica at most.
	SpreadNodesRequired NodeSpread = "required"
	// SpreadNodesPreferred spreads when it can (ScheduleAnyway): for clusters that may have a
	// single node and no autoscaler.
	SpreadNodesPreferred NodeSpread = "preferred"
)

// Spread spreads a workload's pods evenly over zones and nodes. Zones are always
// ScheduleAnyway: when a zone is lost its nodes stay in the cluster (NotReady), and a
// DoNotSchedule zone rule would then refuse to put the replacements in the zones that are left.
// Tainted nodes (NotReady, cordoned) do not count (nodeTaintsPolicy Honor). matchLabelKeys (e.g.
// pod-template-hash) spread each ReplicaSet's pods on their own, so a rollout's new pods are not
// held back by the old ones.
func Spread(selector map[string]string, nodes NodeSpread, matchLabelKeys ...string) corev1.TopologySpreadConstraintArray {
	hosts := "ScheduleAnyway"
	if nodes == SpreadNodesRequired {
		hosts = "DoNotSchedule"
	}
	constraint := func(key, when string) corev1.TopologySpreadConstraintArgs {
		c := corev1.TopologySpreadConstraintArgs{
			MaxSkew:           pulumi.Int(1),
			TopologyKey:       pulumi.String(key),
			WhenUnsatisfiable: pulumi.String(when),
			LabelSelector:     &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			NodeTaintsPolicy:  pulumi.String("Honor"),
		}
		if len(matchLabelKeys) > 0 {
			c.MatchLabelKeys = pulumi.ToStringArray(matchLabelKeys)
		}
		return c
	}
	return corev1.TopologySpreadConstraintArray{
		constraint("topology.kubernetes.io/zone", "ScheduleAnyway"),
		constraint("kubernetes.io/hostname", hosts),
	}
}

// SecretEnv is an environment variable read from a Secret key, never a literal.
func SecretEnv(name string, ref SecretRef) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{
		Name: pulumi.String(name),
		ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
			Name: pulumi.String(ref.Name),
			Key:  pulumi.String(ref.Key),
		}},
	}
}

// SecretRef names one key of a Secret.
type SecretRef struct {
	Name, Key string
}

// SortedKeys returns a map's keys in order, for stable rendering.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// NewDrainablePDB guards a workload with maxUnavailable 1: at most one pod is evicted at a
// time, and a drain is never blocked, whatever the replica count (minAvailable equal to the
// replicas would block every drain of a single-replica workload).
func NewDrainablePDB(ctx *pulumi.Context, name string, meta *metav1.ObjectMetaArgs, selector map[string]string,
	opts ...pulumi.ResourceOption) error {
	_, err := policyv1.NewPodDisruptionBudget(ctx, name, &policyv1.PodDisruptionBudgetArgs{
		Metadata: meta,
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
		},
	}, opts...)
	return err
}

// ImageTag returns the tag of an image reference ("" for a digest or no tag), e.g. for the
// app.kubernetes.io/version label.
func ImageTag(image string) string {
	if strings.Contains(image, "@") {
		return ""
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return ""
}

package validate

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// Problems are messages of the form "<key>: <bad value>; <what is valid>".
type Problems []string

// Key joins a prefix and a setting's name: Key("nodePool", "minNodes") is
// "nodePool.minNodes"; an empty prefix leaves the name alone.
func Key(prefix, name string) string {
	switch {
	case prefix == "":
		return name
	case name == "":
		return prefix
	}
	return prefix + "." + name
}

// Addf adds a problem about key.
func (p *Problems) Addf(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

// Add appends problems found elsewhere.
func (p *Problems) Add(more ...string) { *p = append(*p, more...) }

// Err returns nil when there is no problem, else an error listing every problem, prefixed by
// what was being checked (e.g. `nfs "files"`).
func (p Problems) Err(what string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", what, strings.Join(p, "; "))
}

// OneOf checks an enumerated setting; empty means "use the default" and is always fine.
func (p *Problems) OneOf(key, value string, valid ...string) {
	if value != "" && !slices.Contains(valid, value) {
		p.Addf(key, "%q is not valid; use one of %s", value, strings.Join(valid, ", "))
	}
}

// OneOfMode is OneOf for a mode type: its valid values are the type's list (e.g.
// platform.ClusterModes), kept in one place with the constants.
func OneOfMode[M ~string](p *Problems, key string, value M, valid []M) {
	names := make([]string, len(valid))
	for i, v := range valid {
		names[i] = string(v)
	}
	p.OneOf(key, string(value), names...)
}

// Matches checks value against re; empty is fine.
func (p *Problems) Matches(key, value string, re *regexp.Regexp, what string) {
	if value != "" && !re.MatchString(value) {
		p.Addf(key, "%q is not valid; want %s", value, what)
	}
}

// Required reports a missing value.
func (p *Problems) Required(key, value, what string) bool {
	if value == "" {
		p.Addf(key, "missing; %s", what)
		return false
	}
	return true
}

// CIDR parses an IPv4 network; empty is not checked.
func (p *Problems) CIDR(key, value string) (netip.Prefix, bool) {
	if value == "" {
		return netip.Prefix{}, false
	}
	pfx, err := netip.ParsePrefix(value)
	if err != nil || !pfx.Addr().Is4() || pfx.Masked() != pfx {
		p.Addf(key, "%q is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20", value)
		return netip.Prefix{}, false
	}
	return pfx, true
}

// DocumentationRanges are RFC 5737's TEST-NET ranges: placeholders in examples, never a real
// client's address.
var DocumentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
}

// NotDocumentationRange refuses a placeholder range copied from an example; want says what
// to set instead. Invalid CIDRs are left to CIDR.
func (p *Problems) NotDocumentationRange(key, value, want string) {
	pfx, err := netip.ParsePrefix(value)
	if err != nil {
		return
	}
	for _, doc := range DocumentationRanges {
		if doc.Overlaps(pfx) {
			p.Addf(key, "%q is a documentation range (RFC 5737) that no real client uses; set %s", value, want)
			return
		}
	}
}

// Disjoint reports every pair of ranges (by key) that overlap. Unparsable ranges are skipped:
// CIDR has reported them.
func (p *Problems) Disjoint(what string, ranges map[string]string) {
	parsed := map[string]netip.Prefix{}
	for _, key := range kube.SortedKeys(ranges) {
		if pfx, err := netip.ParsePrefix(ranges[key]); err == nil {
			parsed[key] = pfx
		}
	}
	keys := kube.SortedKeys(parsed)
	for i := range keys {
		for _, other := range keys[i+1:] {
			if parsed[keys[i]].Overlaps(parsed[other]) {
				p.Addf(keys[i], "%s overlaps %s (%s); %s", parsed[keys[i]], other, parsed[other], what)
			}
		}
	}
}

// AtLeast checks an optional integer's lower bound.
func (p *Problems) AtLeast(key string, v *int, min int) {
	if v != nil && *v < min {
		p.Addf(key, "%d is not valid; want %d or more", *v, min)
	}
}

// Between checks an integer's range.
func (p *Problems) Between(key string, v, min, max int) {
	if v < min || v > max {
		p.Addf(key, "%d is not valid; want %d to %d", v, min, max)
	}
}

// Image checks an image reference.
func (p *Problems) Image(key, value, example string) {
	p.Matches(key, value, ImageRe, "an image reference such as "+example)
}

// Quantity checks a size such as 20Gi.
func (p *Problems) Quantity(key, value, example string) {
	if _, err := kube.MemoryBytes(value); err != nil {
		p.Addf(key, "%q is not valid; want a size such as %s", value, example)
	}
}

// Resources checks a container's requests and limits: each quantity parses, and requests do
// not exceed limits.
func (p *Problems) Resources(key string, r kube.Resources) {
	reqCPU, err1 := kube.MilliCPU(r.Requests.CPU)
	limCPU, err2 := kube.MilliCPU(r.Limits.CPU)
	if err1 != nil {
		p.Addf(key+".requests.cpu", "%v", err1)
	}
	if err2 != nil {
		p.Addf(key+".limits.cpu", "%v", err2)
	}
	if err1 == nil && err2 == nil && reqCPU > limCPU {
		p.Addf(key+".requests.cpu", "%s is above %s.limits.cpu (%s); want requests <= limits", r.Requests.CPU, key, r.Limits.CPU)
	}
	reqMem, err1 := kube.MemoryBytes(r.Requests.Memory)
	limMem, err2 := kube.MemoryBytes(r.Limits.Memory)
	if err1 != nil {
		p.Addf(key+".requests.memory", "%v", err1)
	}
	if err2 != nil {
		p.Addf(key+".limits.memory", "%v", err2)
	}
	if err1 == nil && err2 == nil && reqMem > limMem {
		p.Addf(key+".requests.memory", "%s is above %s.limits.memory (%s); want requests <= limits", r.Requests.Memory, key, r.Limits.Memory)
	}
	reqDisk, err1 := kube.MemoryBytes(r.Requests.EphemeralStorage)
	limDisk, err2 := kube.MemoryBytes(r.Limits.EphemeralStorage)
	if err1 != nil {
		p.Addf(key+".requests.ephemeralStorage", "%v", err1)
	}
	if err2 != nil {
		p.Addf(key+".limits.ephemeralStorage", "%v", err2)
	}
	if err1 == nil && err2 == nil && reqDisk > limDisk {
		p.Addf(key+".requests.ephemeralStorage", "%s is above %s.limits.ephemeralStorage (%s); want requests <= limits", r.Requests.EphemeralStorage, key, r.Limits.EphemeralStorage)
	}
}

// Labels checks Google Cloud labels (keys and values).
func (p *Problems) Labels(key string, labels map[string]string) {
	for _, k := range kube.SortedKeys(labels) {
		p.Matches(key, k, labelKeyRe, "label keys of lower-case letters, digits, '_' or '-', starting with a letter, at most 63 characters")
		if !labelValueRe.MatchString(labels[k]) {
			p.Addf(key+"."+k, "%q is not valid; want lower-case letters, digits, '_' or '-', at most 63 characters", labels[k])
		}
	}
}

// KubernetesLabels checks Kubernetes labels: keys of an optional DNS-subdomain prefix and a
// name, values of at most 63 letters, digits, '-', '_' or '.'; kubernetes.io and k8s.io
// prefixes are the system's.
func (p *Problems) KubernetesLabels(key string, labels map[string]string) {
	for _, k := range kube.SortedKeys(labels) {
		prefix, name, hasPrefix := strings.Cut(k, "/")
		if !hasPrefix {
			prefix, name = "", k
		}
		switch {
		case !k8sLabelNameRe.MatchString(name) || (hasPrefix && (len(prefix) > 253 || !DNSSubdomainRe.MatchString(prefix))):
			p.Addf(key, "%q is not a valid label key; want [prefix/]name with a name of at most 63 letters, digits, '-', '_' or '.'", k)
		case strings.HasSuffix(prefix, "kubernetes.io") || strings.HasSuffix(prefix, "k8s.io"):
			p.Addf(key, "%q uses a prefix reserved for Kubernetes itself", k)
		}
		if v := labels[k]; v != "" && !k8sLabelNameRe.MatchString(v) {
			p.Addf(key+"."+k, "%q is not valid; want at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit", v)
		}
	}
}

// WithPrefix returns only the problems about key or settings below it.
func (p Problems) WithPrefix(key string) Problems {
	var out Problems
	for _, m := range p {
		if strings.HasPrefix(m, key+":") || strings.HasPrefix(m, key+".") || strings.HasPrefix(m, key+"[") {
			out = append(out, m)
		}
	}
	return out
}

// Sorted returns the problems in order, without repeats.
func (p Problems) Sorted() Problems {
	out := slices.Clone(p)
	sort.Strings(out)
	return slices.Compact(out)
}

// Shared patterns.
var (
	ImageRe        = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$`)
	DNSLabelRe     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	DNSNameRe      = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	MachineTypeRe  = regexp.MustCompile(`^[a-z][a-z0-9]*-[a-z0-9]+(-[a-z0-9]+)*$`)
	ZoneRe         = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+-[a-z]$`)
	labelKeyRe     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	k8sLabelNameRe = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	DNSSubdomainRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	labelValueRe   = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
)

// PrivateRanges are RFC 1918's, the internal ranges this project's Google Cloud rules accept
// where Google wants "internal" addresses (a private endpoint's authorized networks,
// Filestore's reserved range).
var PrivateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
}

// IsPrivate says pfx lies wholly inside one of PrivateRanges.
func IsPrivate(pfx netip.Prefix) bool {
	for _, r := range PrivateRanges {
		if r.Bits() <= pfx.Bits() && r.Contains(pfx.Addr()) {
			return true
		}
	}
	return false
}

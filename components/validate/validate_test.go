package validate_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

func intp(v int) *int { return &v }

func TestKey(t *testing.T) {
	cases := []struct{ prefix, name, want string }{
		{"nodePool", "minNodes", "nodePool.minNodes"},
		{"", "minNodes", "minNodes"},
		{"nodePool", "", "nodePool"},
		{"", "", ""},
		{"cluster.network", "podCidr", "cluster.network.podCidr"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, validate.Key(c.prefix, c.name), "Key(%q, %q)", c.prefix, c.name)
	}
}

func TestAddfAddAndErr(t *testing.T) {
	var p validate.Problems
	require.NoError(t, p.Err("nfs \"files\""), "no problem, no error")

	p.Addf("size", "%q is not valid; want %s", "ten", "10Gi")
	p.Add("a: one", "b: two")
	assert.Equal(t, validate.Problems{`size: "ten" is not valid; want 10Gi`, "a: one", "b: two"}, p)

	err := p.Err(`nfs "files"`)
	require.Error(t, err)
	assert.Equal(t, `nfs "files": size: "ten" is not valid; want 10Gi; a: one; b: two`, err.Error(),
		"every problem at once, in order, after what was checked")
}

// Each helper side by side: the values it accepts (no problem) and those it refuses (the
// exact message).
func TestHelpers(t *testing.T) {
	re := regexp.MustCompile(`^[a-z]+$`)
	cases := []struct {
		name string
		run  func(p *validate.Problems)
		want []string // nil: no problem
	}{
		{"OneOf valid", func(p *validate.Problems) { p.OneOf("tier", "b", "a", "b") }, nil},
		{"OneOf empty means default", func(p *validate.Problems) { p.OneOf("tier", "", "a", "b") }, nil},
		{"OneOf invalid", func(p *validate.Problems) { p.OneOf("tier", "c", "a", "b") },
			[]string{`tier: "c" is not valid; use one of a, b`}},
		{"OneOf is case-sensitive", func(p *validate.Problems) { p.OneOf("tier", "A", "a", "b") },
			[]string{`tier: "A" is not valid; use one of a, b`}},

		{"Matches valid", func(p *validate.Problems) { p.Matches("name", "abc", re, "letters") }, nil},
		{"Matches empty", func(p *validate.Problems) { p.Matches("name", "", re, "letters") }, nil},
		{"Matches invalid", func(p *validate.Problems) { p.Matches("name", "ab1", re, "letters") },
			[]string{`name: "ab1" is not valid; want letters`}},

		{"Required present", func(p *validate.Problems) { p.Required("Project", "p", "the project") }, nil},
		{"Required missing", func(p *validate.Problems) { p.Required("Project", "", "the project") },
			[]string{"Project: missing; the project"}},

		{"CIDR valid", func(p *validate.Problems) { p.CIDR("cidr", "10.10.0.0/20") }, nil},
		{"CIDR empty is not checked", func(p *validate.Problems) { p.CIDR("cidr", "") }, nil},
		{"CIDR host bits set", func(p *validate.Problems) { p.CIDR("cidr", "10.10.0.1/20") },
			[]string{`cidr: "10.10.0.1/20" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`}},
		{"CIDR IPv6", func(p *validate.Problems) { p.CIDR("cidr", "fd00::/64") },
			[]string{`cidr: "fd00::/64" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`}},
		{"CIDR no prefix length", func(p *validate.Problems) { p.CIDR("cidr", "10.10.0.0") },
			[]string{`cidr: "10.10.0.0" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`}},

		{"Disjoint disjoint", func(p *validate.Problems) {
			p.Disjoint("must be disjoint", map[string]string{"a": "10.0.0.0/16", "b": "10.1.0.0/16", "c": "192.168.0.0/24"})
		}, nil},
		{"Disjoint overlap, reported once by sorted keys", func(p *validate.Problems) {
			p.Disjoint("must be disjoint", map[string]string{"b": "10.1.0.0/16", "a": "10.0.0.0/8"})
		}, []string{"a: 10.0.0.0/8 overlaps b (10.1.0.0/16); must be disjoint"}},
		{"Disjoint every overlapping pair", func(p *validate.Problems) {
			p.Disjoint("must be disjoint", map[string]string{"a": "10.0.0.0/8", "b": "10.1.0.0/16", "c": "10.2.0.0/16"})
		}, []string{"a: 10.0.0.0/8 overlaps b (10.1.0.0/16); must be disjoint", "a: 10.0.0.0/8 overlaps c (10.2.0.0/16); must be disjoint"}},
		{"Disjoint skips what does not parse", func(p *validate.Problems) {
			p.Disjoint("must be disjoint", map[string]string{"a": "nonsense", "b": "10.1.0.0/16", "c": ""})
		}, nil},

		{"AtLeast unset", func(p *validate.Problems) { p.AtLeast("n", nil, 1) }, nil},
		{"AtLeast at the bound", func(p *validate.Problems) { p.AtLeast("n", intp(1), 1) }, nil},
		{"AtLeast below", func(p *validate.Problems) { p.AtLeast("n", intp(0), 1) },
			[]string{"n: 0 is not valid; want 1 or more"}},

		{"Between low bound", func(p *validate.Problems) { p.Between("n", 10, 10, 20) }, nil},
		{"Between high bound", func(p *validate.Problems) { p.Between("n", 20, 10, 20) }, nil},
		{"Between below", func(p *validate.Problems) { p.Between("n", 9, 10, 20) },
			[]string{"n: 9 is not valid; want 10 to 20"}},
		{"Between above", func(p *validate.Problems) { p.Between("n", 21, 10, 20) },
			[]string{"n: 21 is not valid; want 10 to 20"}},

		{"Image tag", func(p *validate.Problems) { p.Image("image", "mysql:8.4", "mysql:8.4") }, nil},
		{"Image registry, port and digest", func(p *validate.Problems) {
			p.Image("image", "reg.example:5000/a/b@sha256:0123abcd", "mysql:8.4")
		}, nil},
		{"Image with a space", func(p *validate.Problems) { p.Image("image", "mysql 8.4", "mysql:8.4") },
			[]string{`image: "mysql 8.4" is not valid; want an image reference such as mysql:8.4`}},
		{"Image starting with a separator", func(p *validate.Problems) { p.Image("image", "/mysql", "mysql:8.4") },
			[]string{`image: "/mysql" is not valid; want an image reference such as mysql:8.4`}},

		{"Quantity binary", func(p *validate.Problems) { p.Quantity("size", "20Gi", "20Gi") }, nil},
		{"Quantity decimal", func(p *validate.Problems) { p.Quantity("size", "500M", "20Gi") }, nil},
		{"Quantity fraction", func(p *validate.Problems) { p.Quantity("size", "1.5Gi", "20Gi") },
			[]string{`size: "1.5Gi" is not valid; want a size such as 20Gi`}},
		{"Quantity unknown suffix", func(p *validate.Problems) { p.Quantity("size", "20GB", "20Gi") },
			[]string{`size: "20GB" is not valid; want a size such as 20Gi`}},
		{"Quantity empty (defaults are applied first)", func(p *validate.Problems) { p.Quantity("size", "", "20Gi") },
			[]string{`size: "" is not valid; want a size such as 20Gi`}},

		{"Labels valid", func(p *validate.Problems) {
			p.Labels("labels", map[string]string{"env": "prod", "team_a": "", "cost-center": "a-1_b"})
		}, nil},
		{"Labels key with upper case", func(p *validate.Problems) { p.Labels("labels", map[string]string{"Env": "prod"}) },
			[]string{`labels: "Env" is not valid; want label keys of lower-case letters, digits, '_' or '-', starting with a letter, at most 63 characters`}},
		{"Labels key starting with a digit", func(p *validate.Problems) { p.Labels("labels", map[string]string{"1env": "prod"}) },
			[]string{`labels: "1env" is not valid; want label keys of lower-case letters, digits, '_' or '-', starting with a letter, at most 63 characters`}},
		{"Labels key of 64 characters", func(p *validate.Problems) {
			p.Labels("labels", map[string]string{"a" + strings.Repeat("b", 63): "x"})
		}, []string{`labels: "a` + strings.Repeat("b", 63) + `" is not valid; want label keys of lower-case letters, digits, '_' or '-', starting with a letter, at most 63 characters`}},
		{"Labels value with upper case", func(p *validate.Problems) { p.Labels("labels", map[string]string{"env": "Prod"}) },
			[]string{`labels.env: "Prod" is not valid; want lower-case letters, digits, '_' or '-', at most 63 characters`}},
		{"Labels value of 64 characters", func(p *validate.Problems) { p.Labels("labels", map[string]string{"env": strings.Repeat("a", 64)}) },
			[]string{`labels.env: "` + strings.Repeat("a", 64) + `" is not valid; want lower-case letters, digits, '_' or '-', at most 63 characters`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p validate.Problems
			c.run(&p)
			if c.want == nil {
				assert.Empty(t, p)
				return
			}
			assert.Equal(t, validate.Problems(c.want), p)
		})
	}
}

func TestCIDRReturnsTheParsedNetwork(t *testing.T) {
	var p validate.Problems
	pfx, ok := p.CIDR("cidr", "172.16.0.0/28")
	require.True(t, ok)
	assert.Equal(t, 28, pfx.Bits())
	assert.Equal(t, "172.16.0.0/28", pfx.String())

	_, ok = p.CIDR("cidr", "")
	assert.False(t, ok, "empty is not a network")
	_, ok = p.CIDR("cidr", "172.16.0.1/28")
	assert.False(t, ok)
	assert.Len(t, p, 1, "only the invalid one is a problem")
}

func TestRequiredReportsPresence(t *testing.T) {
	var p validate.Problems
	assert.True(t, p.Required("a", "x", "what"))
	assert.False(t, p.Required("b", "", "what"))
	assert.Equal(t, validate.Problems{"b: missing; what"}, p)
}

func TestResources(t *testing.T) {
	res := func(reqCPU, reqMem, limCPU, limMem string) kube.Resources {
		return kube.Resources{Requests: kube.Compute{CPU: reqCPU, Memory: reqMem, EphemeralStorage: "256Mi"},
			Limits: kube.Compute{CPU: limCPU, Memory: limMem, EphemeralStorage: "1Gi"}}
	}
	disk := func(req, lim string) kube.Resources {
		r := res("1", "1Gi", "2", "2Gi")
		r.Requests.EphemeralStorage, r.Limits.EphemeralStorage = req, lim
		return r
	}
	cases := []struct {
		name string
		r    kube.Resources
		want []string
	}{
		{"valid", res("500m", "1Gi", "2", "2Gi"), nil},
		{"requests equal limits", res("1", "1024Mi", "1000m", "1Gi"), nil},
		{"fractional CPU", res("0.5", "512Mi", "1.5", "1Gi"), nil},
		{"bad request CPU", res("half", "1Gi", "2", "2Gi"),
			[]string{`r.requests.cpu: "half" is not a CPU quantity such as 2 or 500m`}},
		{"bad limit CPU", res("1", "1Gi", "2 cores", "2Gi"),
			[]string{`r.limits.cpu: "2 cores" is not a CPU quantity such as 2 or 500m`}},
		{"CPU request above limit", res("2500m", "1Gi", "2", "2Gi"),
			[]string{"r.requests.cpu: 2500m is above r.limits.cpu (2); want requests <= limits"}},
		{"bad request memory", res("1", "1GB", "2", "2Gi"),
			[]string{`r.requests.memory: "1GB" is not a memory quantity such as 2Gi or 512Mi`}},
		{"bad limit memory", res("1", "1Gi", "2", ""),
			[]string{`r.limits.memory: "" is not a memory quantity such as 2Gi or 512Mi`}},
		{"memory request above limit", res("1", "3Gi", "2", "2048Mi"),
			[]string{"r.requests.memory: 3Gi is above r.limits.memory (2048Mi); want requests <= limits"}},
		{"ephemeral storage unset", disk("", "1Gi"),
			[]string{`r.requests.ephemeralStorage: "" is not a memory quantity such as 2Gi or 512Mi`}},
		{"bad ephemeral storage limit", disk("1Gi", "lots"),
			[]string{`r.limits.ephemeralStorage: "lots" is not a memory quantity such as 2Gi or 512Mi`}},
		{"ephemeral storage request above limit", disk("2Gi", "1Gi"),
			[]string{"r.requests.ephemeralStorage: 2Gi is above r.limits.ephemeralStorage (1Gi); want requests <= limits"}},
		{"every problem at once", res("x", "y", "1", "1Gi"), []string{
			`r.requests.cpu: "x" is not a CPU quantity such as 2 or 500m`,
			`r.requests.memory: "y" is not a memory quantity such as 2Gi or 512Mi`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p validate.Problems
			p.Resources("r", c.r)
			if c.want == nil {
				assert.Empty(t, p)
				return
			}
			assert.Equal(t, validate.Problems(c.want), p)
		})
	}
}

func TestWithPrefix(t *testing.T) {
	p := validate.Problems{
		"nfs: whole",
		"nfs.size: x",
		"nfs[0]: y",
		"nfsServer.size: not nfs",
		"mysql.image: z",
	}
	assert.Equal(t, validate.Problems{"nfs: whole", "nfs.size: x", "nfs[0]: y"}, p.WithPrefix("nfs"))
	assert.Empty(t, p.WithPrefix("backend"))
}

func TestSorted(t *testing.T) {
	p := validate.Problems{"b: 2", "a: 1", "b: 2", "c: 3"}
	assert.Equal(t, validate.Problems{"a: 1", "b: 2", "c: 3"}, p.Sorted())
	assert.Equal(t, validate.Problems{"b: 2", "a: 1", "b: 2", "c: 3"}, p, "Sorted does not change its receiver")
}

func TestSharedPatterns(t *testing.T) {
	cases := []struct {
		name string
		re   *regexp.Regexp
		ok   []string
		bad  []string
	}{
		{"DNSLabelRe", validate.DNSLabelRe,
			[]string{"nginx", "a", "tls-1", strings.Repeat("a", 63)},
			[]string{"", "Nginx", "-a", "a-", "a.b", strings.Repeat("a", 64)}},
		{"DNSNameRe", validate.DNSNameRe,
			[]string{"example.com", "am.example.com", "a-b.example.io"},
			[]string{"", "example", "Example.com", "a..com", "-a.com", "example.c0m"}},
		{"MachineTypeRe", validate.MachineTypeRe,
			[]string{"e2-small", "e2-standard-4", "n2d-highmem-16", "custom-4-8192"},
			[]string{"", "e2", "E2-small", "e2_small", "2e-small", "e2-small-"}},
		{"ZoneRe", validate.ZoneRe,
			[]string{"europe-west1-b", "us-central1-a", "northamerica-northeast2-c"},
			[]string{"", "europe-west1", "europe-west1-bb", "Europe-west1-b", "europe-west-b"}},
		{"ImageRe", validate.ImageRe,
			[]string{"busybox", "busybox:1.37", "wso2/wso2am:4.7.0", "r.io:5000/a/b@sha256:00"},
			[]string{"", ":tag", "a b", "a;b", "a$b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range c.ok {
				assert.True(t, c.re.MatchString(s), "%q should match", s)
			}
			for _, s := range c.bad {
				assert.False(t, c.re.MatchString(s), "%q should not match", s)
			}
		})
	}
}

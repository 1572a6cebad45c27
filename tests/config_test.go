package tests

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// Each case breaks one thing in a valid stack and names the exact message it must produce.
// Every case also proves that nothing was registered.
func TestInvalidConfigIsRejectedBeforeAnyResource(t *testing.T) {
	cases := []struct {
		name    string
		stack   string
		set     map[string]any
		want    string
		secrets map[string]string
	}{
		{"min above max", "dev", map[string]any{"nodePool.minNodes": 5, "nodePool.maxNodes": 2},
			"nodePool.minNodes: 5 is greater than nodePool.maxNodes (2); want nodePool.minNodes <= nodePool.maxNodes", nil},
		{"unknown mode", "dev", map[string]any{"cluster.mode": "eks"},
			`cluster.mode: "eks" is not valid; use one of gke, existing`, nil},
		{"missing project", "dev", map[string]any{"gcp:project": nil},
			"cluster.project: missing; set the Google Cloud project ID: `pulumi config set gcp:project <project-id>` (or cluster.project)", nil},
		{"missing region", "prod", map[string]any{"gcp:region": nil},
			"cluster.region: missing; set a region such as europe-west1: `pulumi config set gcp:region <region>` (or cluster.region)", nil},
		{"bad project", "dev", map[string]any{"cluster.project": "My Project"},
			`cluster.project: "My Project" is not valid; want a Google Cloud project ID (6-30 lower-case letters, digits or '-')`, nil},
		{"negative min", "dev", map[string]any{"nodePool.minNodes": -1},
			"nodePool.minNodes: -1 is not valid; want 0 or more", nil},
		{"zero max", "dev", map[string]any{"nodePool.minNodes": 0, "nodePool.maxNodes": 0},
			"nodePool.maxNodes: 0 is not valid; want 1 or more", nil},
		{"negative disk", "dev", map[string]any{"nodePool.diskSizeGb": -20},
			"nodePool.diskSizeGb: -20 is not valid; want 10 to 65536", nil},
		{"bad machine type", "dev", map[string]any{"nodePool.machineType": "E2 Standard"},
			`nodePool.machineType: "E2 Standard" is not valid; want a Compute Engine machine type such as e2-standard-4`, nil},
		{"both limit pairs", "prod", map[string]any{"nodePool.totalMinNodes": 3, "nodePool.totalMaxNodes": 9},
			"nodePool: both per-zone (minNodes/maxNodes) and total (totalMinNodes/totalMaxNodes) limits are set; GKE accepts one pair only", nil},
		{"half a pair", "dev", map[string]any{"nodePool.maxNodes": nil},
			"nodePool.maxNodes: missing; set it together with nodePool.minNodes", nil},
		{"bad release channel", "dev", map[string]any{"cluster.releaseChannel": "beta"},
			`cluster.releaseChannel: "beta" is not valid; use one of RAPID, REGULAR, STABLE, EXTENDED`, nil},
		{"bad location policy", "dev", map[string]any{"nodePool.locationPolicy": "SPREAD"},
			`nodePool.locationPolicy: "SPREAD" is not valid; use one of BALANCED, ANY`, nil},
		{"zone outside region", "dev", map[string]any{"cluster.zone": "us-central1-a"},
			`cluster.zone: "us-central1-a" is not valid; want a zone of region "europe-west1" such as europe-west1-b, or nothing for a regional cluster`, nil},
		{"bad cluster name", "dev", map[string]any{"cluster.name": "APIM_prod"},
			`cluster.name: "APIM_prod" is not valid; want 1-40 lower-case letters, digits or '-', starting with a letter`, nil},
		{"master cidr not /28", "prod", map[string]any{"cluster.masterCidr": "172.16.0.0/24"},
			`cluster.masterCidr: "172.16.0.0/24" is not valid; GKE wants a /28`, nil},
		{"overlapping ranges", "dev", map[string]any{"cluster.network.nodeCidr": "10.16.0.0/20"},
			"cluster.network.nodeCidr: 10.16.0.0/20 overlaps cluster.network.podCidr (10.16.0.0/14); the node, pod and service ranges must be disjoint", nil},
		{"not a cidr", "dev", map[string]any{"cluster.network.podCidr": "10.16.0.0"},
			`cluster.network.podCidr: "10.16.0.0" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`, nil},
		{"surge and unavailable zero", "dev", map[string]any{"nodePool.maxSurge": 0, "nodePool.maxUnavailable": 0},
			"nodePool.maxSurge: 0 together with nodePool.maxUnavailable 0 would block every node upgrade; set maxSurge to 1 or more", nil},
		{"misspelt key", "dev", map[string]any{"nodePool.maxNode": 4},
			`nodePool: unknown setting "maxNode"; see Pulumi.yaml or docs/configuration.md for the valid keys`, nil},
		{"wrong type", "dev", map[string]any{"nodePool.maxNodes": "three"},
			"nodePool.maxNodes: got a string, want an integer", nil},
		{"hpa min above max", "prod", map[string]any{"gateway.minReplicas": 5, "gateway.maxReplicas": 3},
			"gateway.maxReplicas: 3 is not greater than gateway.minReplicas (5); the autoscaler needs room to scale", nil},
		{"cpu target negative", "dev", map[string]any{"gateway.cpuTargetPercent": -5},
			"gateway.cpuTargetPercent: -5 is not valid; want 1 to 100", nil},
		{"cpu target above 100", "dev", map[string]any{"gateway.cpuTargetPercent": 150},
			"gateway.cpuTargetPercent: 150 is not valid; want 1 to 100", nil},
		{"heap above limit", "dev", map[string]any{"apim.heapMb": 3000},
			"apim.heapMb: 3000 MiB does not fit apim.resources.limits.memory (3Gi); want at most 2304 MiB (75%), leaving room for metaspace, threads and buffers", nil},
		{"gateway heap above a smaller limit", "dev", map[string]any{"gateway.resources": map[string]any{"limits": map[string]any{"memory": "2Gi"}}},
			"gateway.heapMb: 2048 MiB does not fit gateway.resources.limits.memory (2Gi); want at most 1536 MiB (75%), leaving room for metaspace, threads and buffers", nil},
		{"requests above limits", "local", map[string]any{"mysql.resources": map[string]any{"requests": map[string]any{"cpu": "4"}}},
			"mysql.resources.requests.cpu: 4 is above mysql.resources.limits.cpu (2); want requests <= limits", nil},
		{"bad memory quantity", "dev", map[string]any{"apim.resources": map[string]any{"limits": map[string]any{"memory": "3GB"}}},
			`apim.resources.limits.memory: "3GB" is not a memory quantity such as 2Gi or 512Mi`, nil},
		{"placeholder jdbc url", "dev", map[string]any{"apim.jdbcDriver.url": "https://artifacts.example.com/maven/mysql-connector-j-9.1.0.jar"},
			`apim.jdbcDriver.url: "https://artifacts.example.com/maven/mysql-connector-j-9.1.0.jar" is a placeholder (artifacts.example.com is a documentation domain); set your mirror's URL, or remove the setting to download from Maven Central`, nil},
		{"not a url", "dev", map[string]any{"apim.jdbcDriver.url": "ftp:/mirror"},
			`apim.jdbcDriver.url: "ftp:/mirror" is not valid; want the http(s) URL of mysql-connector-j-<version>.jar, or nothing for Maven Central's`, nil},
		{"placeholder jdbc sha", "prod", map[string]any{"apim.jdbcDriver.sha256": strings.Repeat("0", 64)},
			`apim.jdbcDriver.sha256: "` + strings.Repeat("0", 64) + `" is a placeholder; set the jar's real sha256 (see docs/configuration.md: tools/pin-jdbc-driver.sh), or remove the setting to verify against the repository's checksum file`, nil},
		{"bad jdbc sha", "dev", map[string]any{"apim.jdbcDriver.sha256": "abc"},
			`apim.jdbcDriver.sha256: "abc" is not valid; want 64 lower-case hex characters`, nil},
		{"bad jdbc version", "dev", map[string]any{"apim.jdbcDriver.version": "latest"},
			`apim.jdbcDriver.version: "latest" is not valid; want a Connector/J version such as 9.1.0`, nil},
		{"digest image without server home", "prod", map[string]any{"apim.image": "wso2/wso2am@sha256:" + strings.Repeat("a", 64)},
			`apim.serverHome: missing; the product directory cannot be read from image "wso2/wso2am@sha256:` + strings.Repeat("a", 64) + `" (pinned by digest, or a tag without a version): set apim.serverHome to the directory inside the image, e.g. /home/wso2carbon/wso2am-4.7.0`, nil},
		{"gateway tag without version", "dev", map[string]any{"gateway.image": "wso2/wso2am-universal-gw:latest"},
			`gateway.serverHome: missing; the product directory cannot be read from image "wso2/wso2am-universal-gw:latest" (pinned by digest, or a tag without a version): set gateway.serverHome to the directory inside the image, e.g. /home/wso2carbon/wso2am-4.7.0`, nil},
		{"relative server home", "dev", map[string]any{"apim.serverHome": "wso2am-4.7.0"},
			`apim.serverHome: "wso2am-4.7.0" is not valid; want an absolute path without spaces or quotes`, nil},
		{"admin name with a quote", "dev", map[string]any{"apim.adminUsername": `ad"min`},
			`apim.adminUsername: "ad\"min" is not valid; want 3-30 letters, digits, '.', '_', '@' or '-', starting with a letter`, nil},
		{"plain-text password", "dev", map[string]any{"apimAdminPassword": "plain-text-password"},
			"apimAdminPassword: is stored in plain text; remove it and set it with `pulumi config set --secret apimAdminPassword <value>`",
			without(harness.TestSecrets, "apimAdminPassword")},
		{"short password", "dev", nil, "mysqlRootPassword: the value is too short; want at least 12 characters",
			with(harness.TestSecrets, "mysqlRootPassword", "short")},
		{"bad encryption key", "dev", nil, "apimEncryptionKey: the value is not valid; want 32 or 64 hex characters (e.g. `openssl rand -hex 32`)",
			with(harness.TestSecrets, "apimEncryptionKey", "not-hex")},
		{"admin password breaking XML and the AMQP URL", "dev", nil,
			`apimAdminPassword: the value contains '&', '<', '@', '#'; WSO2 copies it verbatim into XML files and into the event hub's AMQP URL, where these break; ` +
				`want letters, digits and punctuation other than '"' '\'' '\\' '` + "`" + `' '$' '&' '<' '>' '@' ':' '/' '?' '#' '%'`,
			with(harness.TestSecrets, "apimAdminPassword", "pass&word<ok@host#frag")},
		{"database password breaking XML", "dev", nil,
			`mysqlPassword: the value contains '>'; WSO2 copies it verbatim into XML files (its datasources), where these break; ` +
				`want letters, digits and punctuation other than '"' '\'' '\\' '` + "`" + `' '$' '&' '<' '>'`,
			with(harness.TestSecrets, "mysqlPassword", "db-password>12")},
		{"database password may hold what only AMQP refuses", "dev", nil, "", with(harness.TestSecrets, "mysqlPassword", "db:pass/word@12#")},
		{"unpinned jdbc driver on gke", "prod", map[string]any{"apim.jdbcDriver.version": "9.2.0"},
			"apim.jdbcDriver.sha256: missing; mode gke runs only a pinned driver, and " + apim.MavenCentral +
				"/com/mysql/mysql-connector-j/9.2.0/mysql-connector-j-9.2.0.jar is not the default jar whose sha256 the product knows: run tools/pin-jdbc-driver.sh <stack>", nil},
		{"unpinned jdbc mirror on gke", "dev", map[string]any{"apim.jdbcDriver.url": "https://maven.corp.internal/cj-9.1.0.jar"},
			"apim.jdbcDriver.sha256: missing; mode gke runs only a pinned driver, and https://maven.corp.internal/cj-9.1.0.jar is not the default jar whose sha256 the product knows: run tools/pin-jdbc-driver.sh <stack>", nil},
		{"bad keystore generation", "dev", map[string]any{"apim.keystores.generation": -2},
			"apim.keystores.generation: -2 is not valid; want 1 or more (bump it by one to rotate every key)", nil},
		{"bad keystore secret name", "prod", map[string]any{"apim.keystores.secretName": "My Stores"},
			`apim.keystores.secretName: "My Stores" is not valid; want the name of a Secret in the workloads' namespace (a DNS subdomain)`, nil},
		{"trusted certificates not PEM", "dev", map[string]any{"apim.trustedCertificates": "my CA"},
			"apim.trustedCertificates: is not a PEM bundle; want one or more -----BEGIN CERTIFICATE----- blocks", nil},
		{"backend egress without ports", "dev", map[string]any{"apim.backendEgress": []any{map[string]any{"cidr": "10.20.0.0/16"}}},
			"apim.backendEgress[0].ports: missing; want the TCP ports to allow, such as [443]", nil},
		{"backend egress bad port", "prod", map[string]any{"apim.backendEgress": []any{map[string]any{"cidr": "10.20.0.0/16", "ports": []any{443, 70000}}}},
			"apim.backendEgress[0].ports[1]: 70000 is not valid; want 1 to 65535", nil},
		{"backend egress bad range", "local", map[string]any{"apim.backendEgress": []any{map[string]any{"cidr": "backends", "ports": []any{443}}}},
			`apim.backendEgress[0].cidr: "backends" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`, nil},
		{"bad namespace", "dev", map[string]any{"cluster.namespace": "WSO2_APIM"},
			`cluster.namespace: "WSO2_APIM" is not valid; want a DNS label (lower-case letters, digits, '-', at most 63)`, nil},
		{"bad label", "dev", map[string]any{"cluster.labels": map[string]any{"team": "Platform Eng"}},
			`cluster.labels.team: "Platform Eng" is not valid; want lower-case letters, digits, '_' or '-', at most 63 characters`, nil},
	}
	// Where one broken setting rightly breaks two rules, the second is named here too.
	alsoReported := map[string][]string{
		"heap above limit": {"apim.resources.limits.ephemeralStorage: 8Gi does not hold a heap dump (6256Mi for heapMb 3000: twice the heap, plus 256Mi) and the logs (2Gi); want at least 8304Mi"},
		// A driver other than the default needs its own pin on GKE, whatever else is wrong.
		"placeholder jdbc url": {"apim.jdbcDriver.sha256: missing; mode gke runs only a pinned driver, and https://artifacts.example.com/maven/mysql-connector-j-9.1.0.jar is not the default jar whose sha256 the product knows: run tools/pin-jdbc-driver.sh <stack>"},
		"not a url":            {"apim.jdbcDriver.sha256: missing; mode gke runs only a pinned driver, and ftp:/mirror is not the default jar whose sha256 the product knows: run tools/pin-jdbc-driver.sh <stack>"},
		"bad jdbc version": {"apim.jdbcDriver.sha256: missing; mode gke runs only a pinned driver, and " + apim.MavenCentral +
			"/com/mysql/mysql-connector-j/latest/mysql-connector-j-latest.jar is not the default jar whose sha256 the product knows: run tools/pin-jdbc-driver.sh <stack>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := harness.Run(stacks.Program, tc.stack, harness.Options{Set: tc.set, Secrets: tc.secrets})
			if tc.want == "" {
				require.NoError(t, err, "a valid value must be accepted")
				return
			}
			require.Error(t, err)
			var cfgErr *stacks.ConfigError
			require.True(t, errors.As(err, &cfgErr), "want a *stacks.ConfigError, got %T: %v", err, err)
			assert.Equal(t, append([]string{tc.want}, alsoReported[tc.name]...), []string(cfgErr.Problems), "exactly these problems")
			assert.Empty(t, g.All(), "invalid config must register nothing")
		})
	}
}

func TestAllProblemsAreReportedAtOnce(t *testing.T) {
	_, err := harness.Run(stacks.Program, "dev", harness.Options{Set: map[string]any{
		"nodePool.minNodes": 5, "nodePool.maxNodes": 2, "cluster.releaseChannel": "beta", "gcp:project": nil,
	}})
	var cfgErr *stacks.ConfigError
	require.True(t, errors.As(err, &cfgErr))
	assert.ElementsMatch(t, []string{
		"nodePool.minNodes: 5 is greater than nodePool.maxNodes (2); want nodePool.minNodes <= nodePool.maxNodes",
		`cluster.releaseChannel: "beta" is not valid; use one of RAPID, REGULAR, STABLE, EXTENDED`,
		"cluster.project: missing; set the Google Cloud project ID: `pulumi config set gcp:project <project-id>` (or cluster.project)",
	}, []string(cfgErr.Problems))
	assert.Contains(t, err.Error(), `invalid config for stack "dev" (3 problem(s)); nothing was deployed`)
}

func TestExistingModeIgnoresGKESettings(t *testing.T) {
	// A local stack does not need a project or region, and GKE-only settings are not checked.
	_, err := harness.Run(stacks.Program, "local", harness.Options{Set: map[string]any{"nodePool.minNodes": 0, "nodePool.maxNodes": 1}})
	require.NoError(t, err)
}

func without(m map[string]string, key string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func with(m map[string]string, key, value string) map[string]string {
	out := without(m, key)
	out[key] = value
	return out
}

// A secret's value never appears in a validation message.
func TestValidationNeverPrintsSecrets(t *testing.T) {
	bad := with(harness.TestSecrets, "apimEncryptionKey", "not-hex-but-secret-value")
	_, err := harness.Run(stacks.Program, "dev", harness.Options{Secrets: bad})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "not-hex-but-secret-value")
}

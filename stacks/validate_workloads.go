package stacks

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/nfs"
)

var (
	dnsLabelRe   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	dnsNameRe    = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	imageRe      = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$`)
	sha256Re     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	hexKeyRe     = regexp.MustCompile(`^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})$`)
	mysqlUserRe  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,31}$`)
	maxHeapShare = 0.75
)

func validateWorkloads(p *problems, c *Config) {
	p.matches("cluster.namespace", c.Cluster.Namespace, dnsLabelRe, "a DNS label (lower-case letters, digits, '-', at most 63)")
	p.matches("apim.domain", c.APIM.Domain, dnsNameRe, "a DNS domain such as apim.example.com")

	cp, gw := c.controlPlaneArgs(), c.gatewayArgs()
	validateWorkload(p, "apim", cp.Workload, c.APIM.HeapMB)
	validateWorkload(p, "gateway", gw.Workload, c.Gateway.HeapMB)

	d := c.APIM.JDBCDriver
	if d.URL == "" {
		p.addf("apim.jdbcDriver.url", "missing; want the http(s) URL of mysql-connector-j-<version>.jar (Maven Central's or your mirror's)")
	} else if u, err := url.Parse(d.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.addf("apim.jdbcDriver.url", "%q is not valid; want an http or https URL", d.URL)
	}
	if d.SHA256 == "" {
		p.addf("apim.jdbcDriver.sha256", "missing; want the jar's sha256 (64 lower-case hex characters)")
	} else {
		p.matches("apim.jdbcDriver.sha256", d.SHA256, sha256Re, "64 lower-case hex characters")
	}
	p.matches("apim.jdbcDriver.image", d.Image, imageRe, "an image reference such as busybox:1.37")

	g := c.Gateway
	if g.MinReplicas < 0 {
		p.addf("gateway.minReplicas", "%d is not valid; want 1 or more", g.MinReplicas)
	}
	if gw.MaxReplicas <= gw.MinReplicas {
		p.addf("gateway.maxReplicas", "%d is not greater than gateway.minReplicas (%d); the autoscaler needs room to scale", gw.MaxReplicas, gw.MinReplicas)
	}
	if t := g.CPUTargetPercent; t != nil && (*t < 1 || *t > 100) {
		p.addf("gateway.cpuTargetPercent", "%d is not valid; want 1 to 100", *t)
	}
	if g.ScaleDownStabilizationSeconds < 0 || g.ScaleDownStabilizationSeconds > 3600 {
		p.addf("gateway.scaleDownStabilizationSeconds", "%d is not valid; want 0 to 3600", g.ScaleDownStabilizationSeconds)
	}

	m := c.mysqlArgs()
	p.matches("mysql.image", c.MySQL.Image, imageRe, "an image reference such as mysql:8.4")
	p.matches("mysql.username", c.MySQL.Username, mysqlUserRe, "a MySQL user name (letters, digits, '_', at most 32)")
	if _, err := kube.MemoryBytes(m.StorageSize); err != nil {
		p.addf("mysql.storageSize", "%q is not valid; want a size such as 20Gi", m.StorageSize)
	}
	validateResources(p, "mysql.resources", m.Resources)

	if c.Backend.Replicas < 0 {
		p.addf("backend.replicas", "%d is not valid; want 1 or more", c.Backend.Replicas)
	}
	p.matches("backend.image", c.Backend.Image, imageRe, "an image reference")

	validateNFS(p, c)
	validateIngress(p, c)
	validateAnalytics(p, c)
	validateSecrets(p, c.secrets)
}

func validateWorkload(p *problems, key string, w apim.Workload, heapSet int) {
	p.matches(key+".image", w.Image, imageRe, "an image reference such as wso2/wso2am:4.7.0")
	validateResources(p, key+".resources", w.Resources)
	if heapSet < 0 || (heapSet > 0 && heapSet < 512) {
		p.addf(key+".heapMb", "%d is not valid; want 512 or more (MiB)", heapSet)
	}
	if limit, err := kube.MemoryBytes(w.Resources.Limits.Memory); err == nil {
		maxHeap := int(float64(limit) * maxHeapShare / (1 << 20))
		if w.HeapMB > maxHeap {
			p.addf(key+".heapMb", "%d MiB does not fit %s.resources.limits.memory (%s); want at most %d MiB (75%%), leaving room for metaspace, threads and buffers",
				w.HeapMB, key, w.Resources.Limits.Memory, maxHeap)
		}
	}
	if *w.MinReadySeconds < 0 {
		p.addf(key+".minReadySeconds", "%d is not valid; want 0 or more", *w.MinReadySeconds)
	}
}

func validateResources(p *problems, key string, r kube.Resources) {
	reqCPU, err1 := kube.MilliCPU(r.Requests.CPU)
	limCPU, err2 := kube.MilliCPU(r.Limits.CPU)
	for k, err := range map[string]error{".requests.cpu": err1, ".limits.cpu": err2} {
		if err != nil {
			p.addf(key+k, "%v", err)
		}
	}
	if err1 == nil && err2 == nil && reqCPU > limCPU {
		p.addf(key+".requests.cpu", "%s is above %s.limits.cpu (%s); want requests <= limits", r.Requests.CPU, key, r.Limits.CPU)
	}
	reqMem, err1 := kube.MemoryBytes(r.Requests.Memory)
	limMem, err2 := kube.MemoryBytes(r.Limits.Memory)
	for k, err := range map[string]error{".requests.memory": err1, ".limits.memory": err2} {
		if err != nil {
			p.addf(key+k, "%v", err)
		}
	}
	if err1 == nil && err2 == nil && reqMem > limMem {
		p.addf(key+".requests.memory", "%s is above %s.limits.memory (%s); want requests <= limits", r.Requests.Memory, key, r.Limits.Memory)
	}
}

// validateSecrets checks the shape of secret values without ever printing them.
func validateSecrets(p *problems, s map[string]string) {
	if v, ok := s[SecretEncryptionKey]; ok && !hexKeyRe.MatchString(v) {
		p.addf(SecretEncryptionKey, "the value is not valid; want 32 or 64 hex characters (e.g. `openssl rand -hex 32`)")
	}
	if v, ok := s[SecretAnalyticsAdminPassword]; ok && !strongPassword(v) {
		p.addf(SecretAnalyticsAdminPassword, "the value is too weak for OpenSearch; want at least 12 characters with upper and lower case letters, a digit and a symbol")
	}
	for _, key := range []string{SecretAdminPassword, SecretMySQLRootPassword, SecretMySQLPassword, SecretAnalyticsAdminPassword} {
		v, ok := s[key]
		if !ok {
			continue
		}
		if len(v) < 12 {
			p.addf(key, "the value is too short; want at least 12 characters")
		}
		// The password is passed through the environment into deployment.toml and SQL; a
		// quote or backslash there would break both.
		if strings.ContainsAny(v, "\"'\\`$") {
			p.addf(key, "the value contains a quote, backslash, backtick or '$'; want letters, digits and other punctuation")
		}
	}
}

func validateNFS(p *problems, c *Config) {
	n := c.NFS
	p.oneOf("nfs.backend", n.Backend, nfs.BackendVM, nfs.BackendFilestore, nfs.BackendInCluster, nfs.BackendStorageClass)
	cloud := n.Backend == nfs.BackendVM || n.Backend == nfs.BackendFilestore
	if cloud && c.Cluster.Mode != ModeGKE {
		p.addf("nfs.backend", "%q needs cluster.mode gke; with an existing cluster use in-cluster or storage-class", n.Backend)
	}
	if cloud && c.Cluster.Mode == ModeGKE && !strings.HasPrefix(n.Zone, c.Cluster.Region+"-") {
		p.addf("nfs.zone", "%q is not valid; want a zone of region %q", n.Zone, c.Cluster.Region)
	}
	a := c.nfsArgs()
	if n.Backend == nfs.BackendFilestore {
		if min, ok := nfs.TierMinimumGB[a.Tier]; !ok {
			p.addf("nfs.tier", "%q is not valid; use one of %s", a.Tier, strings.Join(kube.SortedKeys(nfs.TierMinimumGB), ", "))
		} else if a.CapacityGB < min {
			p.addf("nfs.capacityGb", "%d is below the %s tier's minimum of %d GB; raise it or choose another tier", a.CapacityGB, a.Tier, min)
		}
	}
	if n.Backend == nfs.BackendVM {
		if n.DiskSizeGB != 0 && (n.DiskSizeGB < 10 || n.DiskSizeGB > 65536) {
			p.addf("nfs.diskSizeGb", "%d is not valid; want 10 to 65536", n.DiskSizeGB)
		}
		p.matches("nfs.machineType", n.MachineType, machineTypeRe, "a Compute Engine machine type such as e2-small")
		p.oneOf("nfs.diskType", n.DiskType, "pd-standard", "pd-balanced", "pd-ssd")
	}
	if n.Backend == nfs.BackendStorageClass && n.StorageClass == "" {
		p.addf("nfs.storageClass", "missing; backend storage-class needs the name of a ReadWriteMany storage class")
	}
	if _, err := kube.MemoryBytes(a.Size); err != nil {
		p.addf("nfs.size", "%q is not valid; want a size such as 10Gi", a.Size)
	}
	for i, cidr := range n.ClientCIDRs {
		p.cidr(fmt.Sprintf("nfs.clientCidrs[%d]", i), cidr)
	}
}

func validateIngress(p *problems, c *Config) {
	i := c.Ingress
	if !*i.Enabled {
		return
	}
	p.oneOf("ingress.tls", i.TLS, ingress.TLSManaged, ingress.TLSSecret, ingress.TLSNone)
	if i.TLS == ingress.TLSManaged && c.Cluster.Mode != ModeGKE {
		p.addf("ingress.tls", "%q needs cluster.mode gke (Google-managed certificates); use secret or none", i.TLS)
	}
	for _, key := range []string{SecretIngressTLSCertificate, SecretIngressTLSKey} {
		if v, ok := c.secrets[key]; ok && !strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN ") {
			p.addf(key, "the value is not PEM; want the -----BEGIN ...----- text of the file")
		}
	}
	p.matches("ingress.className", i.ClassName, dnsLabelRe, "an IngressClass name such as nginx")
	p.matches("publisher.image", c.Publisher.Image, imageRe, "an image reference with python3")
}

func strongPassword(v string) bool {
	var upper, lower, digit, symbol bool
	for _, r := range v {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			symbol = true
		}
	}
	return len(v) >= 12 && upper && lower && digit && symbol
}

func validateAnalytics(p *problems, c *Config) {
	a := c.Analytics
	p.oneOf("analytics.mode", a.Mode, analytics.ModeOpenSearch, analytics.ModeMoesif, analytics.ModeNone)
	if a.Mode != analytics.ModeOpenSearch {
		return
	}
	if r := a.Replicas; r < 0 || r == 2 || (r > 2 && r%2 == 0) {
		p.addf("analytics.replicas", "%d is not valid; want 1 (a single node) or an odd number of at least 3, so the cluster managers keep a quorum", r)
	}
	eff := c.analyticsArgs()
	validateResources(p, "analytics.resources", eff.Resources)
	if limit, err := kube.MemoryBytes(eff.Resources.Limits.Memory); err == nil && int64(eff.HeapMB)<<20 > limit*3/4 {
		p.addf("analytics.heapMb", "%d MiB does not fit analytics.resources.limits.memory (%s); OpenSearch wants the heap at about half the memory", eff.HeapMB, eff.Resources.Limits.Memory)
	}
	if _, err := kube.MemoryBytes(eff.StorageSize); err != nil {
		p.addf("analytics.storageSize", "%q is not valid; want a size such as 20Gi", eff.StorageSize)
	}
	for key, img := range map[string]string{"analytics.image": a.Image, "analytics.dashboardsImage": a.DashboardsImage, "analytics.shipperImage": a.ShipperImage} {
		p.matches(key, img, imageRe, "an image reference")
	}
}

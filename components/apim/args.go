package apim

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Database is how API Manager reaches MySQL.
type Database struct {
	// Host is a DNS name resolvable from the pods, e.g. the MySQL Service's name. Required.
	Host string
	// Port defaults to 3306.
	Port int
	// Username owns apim_db and shared_db. Required.
	Username string
	// Password is the Secret key holding Username's password. Required.
	Password kube.SecretRef
}

// JDBCDriver is the MySQL Connector/J jar, which the API Manager images do not ship. An init
// container downloads it and refuses to start the server unless it is verified: against
// SHA256 when set, otherwise against the SHA-1 file the repository publishes next to the jar
// (Maven Central does for every artifact). The JSON names are the settings of a stack's
// `apim.jdbcDriver` config key.
type JDBCDriver struct {
	// Version of Connector/J. Defaults to DefaultJDBCDriverVersion.
	Version string `json:"version"`
	// URL of the jar (http or https). Defaults to Maven Central's URL for Version; set it to
	// your mirror's.
	URL string `json:"url"`
	// SHA256 of the jar, 64 lower-case hex characters. Optional, and recommended: without it
	// the checksum comes from the same server as the jar (URL + ".sha1"), which guards
	// against a broken download but not against a compromised server.
	SHA256 string `json:"sha256"`
	// Image runs the download; it needs sh, timeout, wget, sha256sum and sha1sum. Defaults
	// to busybox:1.37.
	Image string `json:"image"`
}

// DefaultJDBCDriverVersion is the Connector/J release used when none is configured.
const DefaultJDBCDriverVersion = "9.1.0"

// MavenCentral is where Connector/J is published; users download it from there in production.
const MavenCentral = "https://repo1.maven.org/maven2"

// WithDefaults returns a copy of d with every empty setting replaced by its default.
func (d JDBCDriver) WithDefaults() JDBCDriver {
	if d.Version == "" {
		d.Version = DefaultJDBCDriverVersion
	}
	if d.URL == "" {
		d.URL = fmt.Sprintf("%s/com/mysql/mysql-connector-j/%[2]s/mysql-connector-j-%[2]s.jar", MavenCentral, d.Version)
	}
	if d.Image == "" {
		d.Image = "busybox:1.37"
	}
	return d
}

var (
	sha256Re  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	semverRe  = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	zeroSHARe = regexp.MustCompile(`^0+$`)
)

// placeholderHosts are the documentation names (RFC 2606, RFC 6761) that stack files and
// examples use; a download from one of them can never succeed.
var placeholderHosts = []string{"example.com", "example.org", "example.net", "example", "invalid", "localhost.invalid"}

func isPlaceholderHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range placeholderHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// Validate checks a defaulted driver; key prefixes every message (e.g. "apim.jdbcDriver").
func (d JDBCDriver) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	p.Matches(k("version"), d.Version, semverRe, "a Connector/J version such as "+DefaultJDBCDriverVersion)
	u, err := url.Parse(d.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		p.Addf(k("url"), "%q is not valid; want the http(s) URL of mysql-connector-j-<version>.jar, or nothing for Maven Central's", d.URL)
	case isPlaceholderHost(u.Hostname()):
		p.Addf(k("url"), "%q is a placeholder (%s is a documentation domain); set your mirror's URL, or remove the setting to download from Maven Central", d.URL, u.Hostname())
	case strings.ContainsAny(d.URL, "'\"`$\\ "):
		p.Addf(k("url"), "%q is not valid; want a URL without quotes, spaces, '$' or backslashes", d.URL)
	}
	switch {
	case d.SHA256 == "":
	case zeroSHARe.MatchString(d.SHA256):
		p.Addf(k("sha256"), "%q is a placeholder; set the jar's real sha256 (see the README: tools/pin-jdbc-driver.sh), or remove the setting to verify against the repository's checksum file", d.SHA256)
	default:
		p.Matches(k("sha256"), d.SHA256, sha256Re, "64 lower-case hex characters")
	}
	p.Image(k("image"), d.Image, "busybox:1.37")
	return p
}

// SharedVolume mounts a directory of a ReadWriteMany claim at a directory of the server home.
type SharedVolume struct {
	// Claim is the PersistentVolumeClaim's name. Pass the claim resource's output (e.g.
	// nfs.FileServer.Claim): the Deployment then depends on it, so it is created first and,
	// more important, deleted last (a claim in use cannot be deleted).
	Claim pulumi.StringInput
	// SubPath is the directory inside the claim, e.g. "tenants"; empty mounts its root.
	SubPath string
	// Path is relative to the server home, e.g. "repository/tenants".
	Path string
}

// Credentials are the Secret keys holding the admin password and the symmetric encryption key
// that every node of one deployment shares.
type Credentials struct {
	AdminPassword kube.SecretRef
	EncryptionKey kube.SecretRef
}

// Workload is what each API Manager workload tunes on its own. The JSON names are the
// settings of a stack's `apim` and `gateway` config keys.
type Workload struct {
	// Image defaults to wso2/wso2am:4.7.0 (control plane) or wso2/wso2am-universal-gw:4.7.0.
	Image string `json:"image"`
	// ServerHome is the product directory inside the image. Defaults to
	// /home/wso2carbon/<product>-<version>, with the product and version read from the image
	// (e.g. wso2am and 4.7.0 from wso2/wso2am:4.7.0-alpine). Required when the image is
	// pinned by digest or its tag does not start with a version.
	ServerHome string `json:"serverHome"`
	// Resources default to the 2019 article's numbers, which match WSO2's chart today:
	// requests 2 CPU / 2Gi, limits 3 CPU / 3Gi; ephemeral storage 1Gi, up to 4Gi.
	Resources kube.Resources `json:"resources"`
	// HeapMB is the JVM heap (-Xms and -Xmx), at least 512 and at most 75% of the memory
	// limit. Defaults to 2048, two thirds of the default 3Gi limit; the rest is metaspace,
	// threads and direct buffers.
	HeapMB int `json:"heapMb"`
	// MinReadySeconds a new pod must stay ready before the rollout continues. Defaults to
	// 30, as in the article: it catches pods that pass one readiness check and then fail.
	MinReadySeconds *int `json:"minReadySeconds"`

	// Name of the Deployment and its Service. Defaults to "apim-cp" / "apim-gw".
	Name string `json:"-"`
	// Analytics is rendered as the [apim.analytics] block. Defaults to analytics off.
	Analytics Analytics `json:"-"`
	// PodLabels are added to the pods, e.g. to let them through another NetworkPolicy.
	PodLabels map[string]string `json:"-"`
	// SharedVolumes are ReadWriteMany claims mounted into the server home (userstores and
	// tenants, see the nfs component).
	SharedVolumes []SharedVolume `json:"-"`
	// ServiceAnnotations are put on the Service, e.g. what a load balancer needs (see
	// ingress.ServiceAnnotations).
	ServiceAnnotations map[string]string `json:"-"`
	// LogsVolume, when set, makes the server's repository/logs an emptyDir of this name that
	// Sidecars can mount, e.g. an analytics log shipper.
	LogsVolume string `json:"-"`
	// Sidecars run beside API Manager in each pod; ExtraVolumes are the volumes they need.
	Sidecars     []corev1.ContainerArgs `json:"-"`
	ExtraVolumes []corev1.VolumeArgs    `json:"-"`
	// Clients may reach the public ports (the portals, the gateway's listeners), e.g. the
	// load balancer or the ingress controller. Empty: the pods of the namespace. The
	// workloads' own traffic (gateways to the control plane and back) is always allowed.
	Clients []kube.Peer `json:"-"`
	// Egress is what the pods may call besides each other and DNS: MySQL, backends,
	// analytics. Nil allows nothing more.
	Egress []kube.Rule `json:"-"`
}

// Shared is what a control plane and its gateways must agree on; the caller sets it, config
// does not.
type Shared struct {
	// Namespace to deploy into. Required.
	Namespace pulumi.StringInput
	// AdminUsername defaults to "admin".
	AdminUsername string
	// Credentials are required.
	Credentials Credentials
	// Database is required.
	Database Database
	// JDBCDriver is required.
	JDBCDriver JDBCDriver
	// ManagementHostname is the public host of the portals, e.g. am.example.com. Required.
	ManagementHostname string
	// GatewayHostname is the public host of the gateway, e.g. gw.example.com. Required.
	GatewayHostname string
	// WebSocketHostname and WebSubHostname are the public hosts of the gateway's WebSocket
	// (9099/8099) and WebSub (9021/8021) listeners, e.g. ws.example.com behind an ingress.
	// When empty, clients are sent to GatewayHostname on those ports.
	WebSocketHostname string
	WebSubHostname    string
}

// The endpoints the control plane advertises for WebSocket and WebSub APIs.
func (s Shared) WSEndpoint() string {
	return endpoint("ws", s.WebSocketHostname, s.GatewayHostname, PortWebSocket)
}
func (s Shared) WSSEndpoint() string {
	return endpoint("wss", s.WebSocketHostname, s.GatewayHostname, PortWebSocketSecure)
}
func (s Shared) WebSubHTTPEndpoint() string {
	return endpoint("http", s.WebSubHostname, s.GatewayHostname, PortWebSub)
}
func (s Shared) WebSubHTTPSEndpoint() string {
	return endpoint("https", s.WebSubHostname, s.GatewayHostname, PortWebSubSecure)
}

// endpoint is scheme://host when a host of its own is published (behind an ingress, on the
// scheme's usual port), else scheme://fallback:port, the listener itself.
func endpoint(scheme, host, fallback string, port int) string {
	if host != "" {
		return scheme + "://" + host
	}
	return fmt.Sprintf("%s://%s:%d", scheme, fallback, port)
}

// LogsDir is where the server writes its logs, under ServerHome.
const LogsDir = "repository/logs"

// Analytics configures where API Manager sends analytics.
type Analytics struct {
	// Type is "" (off), "elk" (log-based, for OpenSearch/ELK) or "moesif".
	Type string
	// MoesifKey is the Secret key holding the Moesif application id (type moesif).
	MoesifKey kube.SecretRef
}

// Product directory names inside WSO2's images.
const (
	productControlPlane = "wso2am"
	productGateway      = "wso2am-universal-gw"
	homeRoot            = "/home/wso2carbon"
)

var versionRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*`)

// ServerHomeFor derives the product directory from an image reference: the image's name when
// it is one of WSO2's products (else product, the role's default) and the version its tag
// starts with, so OS variants such as 4.7.0-alpine map to wso2am-4.7.0. It returns "" when the
// image is pinned by digest or its tag carries no version.
func ServerHomeFor(image, product string) string {
	if strings.Contains(image, "@") {
		return ""
	}
	version := versionRe.FindString(kube.ImageTag(image))
	if version == "" {
		return ""
	}
	repo := image
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	if name := path.Base(repo); strings.HasPrefix(name, "wso2am") {
		product = name
	}
	return homeRoot + "/" + product + "-" + version
}

// clients are the peers of the public ports.
func (w Workload) clients() []kube.Peer {
	if len(w.Clients) == 0 {
		return []kube.Peer{{}}
	}
	return w.Clients
}

func (w Workload) withDefaults(name, product string) Workload {
	if w.Name == "" {
		w.Name = name
	}
	if w.Image == "" {
		w.Image = "wso2/" + product + ":4.7.0"
	}
	if w.ServerHome == "" {
		w.ServerHome = ServerHomeFor(w.Image, product)
	}
	// Ephemeral storage: the server writes logs, tmp/ and its rendered configuration to the
	// node's disk (the image's layer); GKE evicts a pod past its limit.
	w.Resources = w.Resources.WithDefaults(kube.Resources{
		Requests: kube.Compute{CPU: "2", Memory: "2Gi", EphemeralStorage: "1Gi"},
		Limits:   kube.Compute{CPU: "3", Memory: "3Gi", EphemeralStorage: "4Gi"},
	})
	if w.HeapMB == 0 {
		w.HeapMB = 2048
	}
	if w.MinReadySeconds == nil {
		v := 30
		w.MinReadySeconds = &v
	}
	return w
}

// WithDefaults returns a copy of s with every empty setting replaced by its default.
func (s Shared) WithDefaults() Shared {
	if s.AdminUsername == "" {
		s.AdminUsername = "admin"
	}
	if s.Database.Port == 0 {
		s.Database.Port = 3306
	}
	s.JDBCDriver = s.JDBCDriver.WithDefaults()
	return s
}

// maxHeapShare of the memory limit may go to the heap; the rest is metaspace, threads and
// direct buffers.
const maxHeapShare = 0.75

// Validate checks a defaulted workload; key prefixes every message (e.g. "gateway").
func (w Workload) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	p.Image(k("image"), w.Image, "wso2/wso2am:4.7.0")
	if w.ServerHome == "" {
		p.Addf(k("serverHome"), "missing; the product directory cannot be read from image %q (pinned by digest, or a tag without a version): set %s to the directory inside the image, e.g. /home/wso2carbon/wso2am-4.7.0", w.Image, k("serverHome"))
	} else if !strings.HasPrefix(w.ServerHome, "/") || strings.ContainsAny(w.ServerHome, " \"'$`\\") {
		p.Addf(k("serverHome"), "%q is not valid; want an absolute path without spaces or quotes", w.ServerHome)
	}
	p.Resources(k("resources"), w.Resources)
	if w.HeapMB < 512 {
		p.Addf(k("heapMb"), "%d is not valid; want 512 or more (MiB)", w.HeapMB)
	}
	if limit, err := kube.MemoryBytes(w.Resources.Limits.Memory); err == nil {
		maxHeap := int(float64(limit) * maxHeapShare / (1 << 20))
		if w.HeapMB > maxHeap {
			p.Addf(k("heapMb"), "%d MiB does not fit %s.limits.memory (%s); want at most %d MiB (75%%), leaving room for metaspace, threads and buffers",
				w.HeapMB, k("resources"), w.Resources.Limits.Memory, maxHeap)
		}
	}
	p.AtLeast(k("minReadySeconds"), w.MinReadySeconds, 0)
	return p
}

// adminUserRe: the name lands in deployment.toml and in the user store; WSO2's default user
// store takes letters, digits and a few separators.
var adminUserRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9._@-]{2,29}$`)

// ValidateAdminUsername checks the admin user's name.
func ValidateAdminUsername(key, name string) validate.Problems {
	var p validate.Problems
	p.Matches(key, name, adminUserRe, "3-30 letters, digits, '.', '_', '@' or '-', starting with a letter")
	return p
}

func (s Shared) missing() []string {
	var m []string
	for _, f := range []struct {
		field string
		empty bool
	}{
		{"Namespace", s.Namespace == nil},
		{"Credentials", s.Credentials.AdminPassword.Name == "" || s.Credentials.EncryptionKey.Name == ""},
		{"Database", s.Database.Host == "" || s.Database.Username == "" || s.Database.Password.Name == ""},
		{"JDBCDriver", s.JDBCDriver.URL == ""},
		{"ManagementHostname", s.ManagementHostname == ""},
		{"GatewayHostname", s.GatewayHostname == ""},
	} {
		if f.empty {
			m = append(m, f.field)
		}
	}
	return m
}

// check adds to p, a workload's problems, everything NewControlPlane and NewGateway refuse to
// start without.
func check(what string, p validate.Problems, s Shared) error {
	p.Add(ValidateAdminUsername("AdminUsername", s.AdminUsername)...)
	p.Add(s.JDBCDriver.Validate("JDBCDriver")...)
	if m := s.missing(); len(m) > 0 {
		p.Addf("args", "%s required", strings.Join(m, ", "))
	}
	return p.Err(what)
}

// ControlPlaneArgs configures the control plane.
type ControlPlaneArgs struct {
	Workload
	Shared `json:"-"`
	// AdminPassword and EncryptionKey (32 or 64 hex characters) are stored in a Secret the
	// control plane creates, whose keys it reports in ControlPlane.Credentials for the
	// gateways. Required unless Shared.Credentials names an existing Secret.
	AdminPassword pulumi.StringInput `json:"-"`
	EncryptionKey pulumi.StringInput `json:"-"`
	// MoesifKey, when set, is stored in the same Secret under "moesif-key" for gateways
	// that send analytics to Moesif.
	MoesifKey pulumi.StringInput `json:"-"`
	// GatewayService is the in-cluster Service of the gateways the control plane deploys
	// APIs to. Defaults to "apim-gw".
	GatewayService string `json:"-"`
	// GatewaySelector are the gateway pods' labels: only they may reach the event hub and
	// throttling ports. Defaults to the default gateway's selector.
	GatewaySelector map[string]string `json:"-"`
}

// credentialsConflict says both an existing Secret (Credentials) and the values it would
// hold were given: the values would land in a Secret the pods do not read.
func (a ControlPlaneArgs) credentialsConflict() bool {
	return a.Shared.Credentials != (Credentials{}) && (a.AdminPassword != nil || a.EncryptionKey != nil) &&
		a.Shared.Credentials.AdminPassword.Name != a.Name+"-credentials"
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a ControlPlaneArgs) WithDefaults() ControlPlaneArgs {
	a.Workload = a.Workload.withDefaults("apim-cp", productControlPlane)
	a.Shared = a.Shared.WithDefaults()
	if a.Credentials == (Credentials{}) && a.AdminPassword != nil && a.EncryptionKey != nil {
		secret := a.Name + "-credentials"
		a.Credentials = Credentials{
			AdminPassword: kube.SecretRef{Name: secret, Key: "admin-password"},
			EncryptionKey: kube.SecretRef{Name: secret, Key: "encryption-key"},
		}
	}
	if a.GatewayService == "" {
		a.GatewayService = "apim-gw"
	}
	if a.GatewaySelector == nil {
		a.GatewaySelector = kube.Selector(a.GatewayService, ComponentGateway)
	}
	return a
}

// GatewayArgs configures the gateway. The JSON names are the settings of a stack's `gateway`
// config key.
type GatewayArgs struct {
	Workload
	Shared `json:"-"`
	// ControlPlaneService is the in-cluster Service of the control plane (event hub, key
	// manager, traffic manager). Defaults to "apim-cp".
	ControlPlaneService string `json:"-"`
	// MinReplicas and MaxReplicas bound the HorizontalPodAutoscaler; max > min. Default 1
	// and 2, the article's numbers.
	MinReplicas int `json:"minReplicas"`
	MaxReplicas int `json:"maxReplicas"`
	// CPUTargetPercent is the average CPU utilisation (of requests) the autoscaler keeps,
	// 1..100. Defaults to 70, the article's number.
	CPUTargetPercent int `json:"cpuTargetPercent"`
	// ScaleDownStabilizationSeconds is how long load must stay low before pods are removed,
	// so the gateway does not flap, 0..3600. Defaults to 300.
	ScaleDownStabilizationSeconds *int `json:"scaleDownStabilizationSeconds"`
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a GatewayArgs) WithDefaults() GatewayArgs {
	a.Workload = a.Workload.withDefaults("apim-gw", productGateway)
	a.Shared = a.Shared.WithDefaults()
	if a.ControlPlaneService == "" {
		a.ControlPlaneService = "apim-cp"
	}
	if a.MinReplicas == 0 {
		a.MinReplicas = 1
	}
	if a.MaxReplicas == 0 {
		a.MaxReplicas = 2
	}
	if a.CPUTargetPercent == 0 {
		a.CPUTargetPercent = 70
	}
	if a.ScaleDownStabilizationSeconds == nil {
		v := 300
		a.ScaleDownStabilizationSeconds = &v
	}
	return a
}

// Validate checks defaulted args; key prefixes every message (e.g. "gateway").
func (a GatewayArgs) Validate(key string) validate.Problems {
	p := a.Workload.Validate(key)
	k := func(name string) string { return validate.Key(key, name) }
	if a.MinReplicas < 1 {
		p.Addf(k("minReplicas"), "%d is not valid; want 1 or more", a.MinReplicas)
	}
	if a.MaxReplicas <= a.MinReplicas {
		p.Addf(k("maxReplicas"), "%d is not greater than %s (%d); the autoscaler needs room to scale", a.MaxReplicas, k("minReplicas"), a.MinReplicas)
	}
	p.Between(k("cpuTargetPercent"), a.CPUTargetPercent, 1, 100)
	p.Between(k("scaleDownStabilizationSeconds"), *a.ScaleDownStabilizationSeconds, 0, 3600)
	return p
}

// Component labels.
const (
	ComponentControlPlane = "control-plane"
	ComponentGateway      = "gateway"
)

// Ports API Manager listens on.
const (
	PortHTTPS        = 9443 // publisher, devportal, admin, REST APIs, /services
	PortHTTP         = 9763 // servlet HTTP, used by the liveness probe
	PortGatewayHTTPS = 8243
	PortGatewayHTTP  = 8280
	PortThrottle     = 9611 // traffic manager binary (TCP)
	PortThrottleSSL  = 9711 // traffic manager binary (SSL)
	PortEventHub     = 5672 // JMS: event hub notifications and throttle decisions
	// The gateway's WebSocket and WebSub (WebHook) API listeners, plain and TLS.
	PortWebSocket       = 9099
	PortWebSocketSecure = 8099
	PortWebSub          = 9021
	PortWebSubSecure    = 8021
	configVolumeRoot    = "/home/wso2carbon/wso2-config-volume"
	jdbcDriverVolName   = "jdbc-driver"
)

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
	"github.com/wso2-k8s/apim-gke/components/mysql"
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
	// SSLMode is Connector/J's sslMode: REQUIRED (encrypted; the default, for a server
	// whose certificate no CA vouches for, such as MySQL's self-made one), VERIFY_CA or
	// VERIFY_IDENTITY (the server's certificate checked against the truststore: pass its
	// CA in ServerCA).
	SSLMode string
	// ServerCA is the PEM certificate of the CA that issued the server's certificate (e.g.
	// a Cloud SQL instance's); the pods' truststore then trusts it. Required for VERIFY_CA
	// and VERIFY_IDENTITY.
	ServerCA pulumi.StringInput
	// ClientImage has the mysql client, for the init container that waits for the database.
	// Defaults to DefaultClientImage.
	ClientImage string
}

// SSL modes of Connector/J that encrypt; the product never connects in plain text.
const (
	SSLRequired       = "REQUIRED"
	SSLVerifyCA       = "VERIFY_CA"
	SSLVerifyIdentity = "VERIFY_IDENTITY"
)

// JDBCDriver is the MySQL Connector/J jar, which the API Manager images do not ship. An init
// container downloads it over checked TLS and refuses to start the server unless it is
// verified: against SHA256 when set, otherwise against the SHA-1 file the repository
// publishes next to the jar (Maven Central does for every artifact). The JSON names are the
// settings of a stack's `apim.jdbcDriver` config key.
type JDBCDriver struct {
	// Version of Connector/J. Defaults to DefaultJDBCDriverVersion.
	Version string `json:"version"`
	// URL of the jar (https, or http with SHA256 set). Defaults to Maven Central's URL for
	// Version; set it to your mirror's.
	URL string `json:"url"`
	// SHA256 of the jar, 64 lower-case hex characters. Defaults to DefaultJDBCDriverSHA256
	// for the default version from Maven Central. Required in mode gke for any other jar
	// (tools/pin-jdbc-driver.sh sets it): the SHA-1 file comes from the same server as the
	// jar, so it guards against a broken download but not against a compromised server.
	SHA256 string `json:"sha256"`
	// Image runs the download; it needs sh, curl with CA certificates, sha256sum and
	// sha1sum. Defaults to the API Manager workload's own image, which has them.
	Image string `json:"image"`
}

// DefaultJDBCDriverVersion is the Connector/J release used when none is configured.
const DefaultJDBCDriverVersion = "9.1.0"

// DefaultJDBCDriverSHA256 is the sha256 of mysql-connector-j-9.1.0.jar on Maven Central
// (2,597,591 bytes). Source: XWiki's official image build (xwiki/xwiki-docker, the
// xwiki:17-mysql-tomcat Dockerfile's MYSQL_JDBC_SHA256, which its build checks with
// sha256sum against that URL), and independently a second public project's lib/README.
// tools/pin-jdbc-driver.sh recomputes it from the jar checked against Maven Central's .sha1.
const DefaultJDBCDriverSHA256 = "8776e2ebc46072c9a47ea59d98298c4273bd9f16a7b26b5dfa4744535aa26c62"

// MavenCentral is where Connector/J is published; users download it from there in production.
const MavenCentral = "https://repo1.maven.org/maven2"

// centralURL is Maven Central's URL of a Connector/J version.
func centralURL(version string) string {
	return fmt.Sprintf("%s/com/mysql/mysql-connector-j/%[2]s/mysql-connector-j-%[2]s.jar", MavenCentral, version)
}

// WithDefaults returns a copy of d with every empty setting replaced by its default.
func (d JDBCDriver) WithDefaults() JDBCDriver {
	if d.Version == "" {
		d.Version = DefaultJDBCDriverVersion
	}
	if d.URL == "" {
		d.URL = centralURL(d.Version)
	}
	// The known sum applies to the known jar only: a mirror's URL or another version must be
	// pinned by its owner.
	if d.SHA256 == "" && d.URL == centralURL(DefaultJDBCDriverVersion) {
		d.SHA256 = DefaultJDBCDriverSHA256
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
	case d.SHA256 == "" && u != nil && u.Scheme == "http":
		p.Addf(k("sha256"), "missing; %s is plain http, so only a pinned sha256 can vouch for the jar: run tools/pin-jdbc-driver.sh <stack>, or use an https URL", d.URL)
	case d.SHA256 == "":
	case zeroSHARe.MatchString(d.SHA256):
		p.Addf(k("sha256"), "%q is a placeholder; set the jar's real sha256 (see docs/configuration.md: tools/pin-jdbc-driver.sh), or remove the setting to verify against the repository's checksum file", d.SHA256)
	default:
		p.Matches(k("sha256"), d.SHA256, sha256Re, "64 lower-case hex characters")
	}
	if d.Image != "" {
		p.Image(k("image"), d.Image, "wso2/wso2am:4.7.0")
	}
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
	// requests 2 CPU / 2Gi, limits 3 CPU / 3Gi; ephemeral storage 2Gi, up to 8Gi (logs.go).
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
	// NodeSpread says how strictly replicas keep to different nodes (kube.Spread).
	// Defaults to preferred (a cluster may have one node); the Platform asks for required on
	// GKE, whose autoscaler adds the nodes.
	NodeSpread kube.NodeSpread `json:"-"`
	// PreStopSeconds the pods keep serving after they are told to stop, while the load
	// balancer or Ingress controller stops sending to them; behind an ingress, its
	// PreStopSeconds. Defaults to 15. The grace period adds a minute for Carbon's shutdown.
	PreStopSeconds int `json:"-"`
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
	// Keystores is the Secret holding the stores (see package keystores): primary.p12,
	// tls.p12, internal.p12, ca.crt and password. Required: the images' own keystores hold
	// keys whose private halves are public.
	Keystores pulumi.StringInput
	// TrustedCertificates is a PEM bundle of more CA certificates the pods trust, e.g. your
	// backends' private CA. Optional.
	TrustedCertificates pulumi.StringInput
	// EdgeScheme is what the public edge serves the hosts with: https (TLS at the load
	// balancer or Ingress controller) or http. Defaults to https.
	EdgeScheme string
	// WebSocketHostname and WebSubHostname are the public hosts of the gateway's WebSocket
	// (9099/8099) and WebSub (9021/8021) listeners, e.g. ws.example.com behind an ingress.
	// When empty, clients are sent to GatewayHostname on those ports.
	WebSocketHostname string
	WebSubHostname    string
	// Metrics is the JMX exporter agent the pods run for a Prometheus collector (metrics.go).
	// Defaults to none.
	Metrics MetricsAgent
}

// The endpoints the control plane advertises for the gateway's REST, WebSocket and WebSub
// listeners. Behind the public edge (a host of their own) each plain/secure pair is one URL in
// EdgeScheme, because the edge serves one scheme and redirects the other: a client sent to a
// redirect fails (WebSocket clients never follow one, others turn a POST into a GET). Without a
// host of their own clients reach the listeners themselves, each on its own scheme and port.
func (s Shared) HTTPEndpoint() string  { return s.EdgeScheme + "://" + s.GatewayHostname }
func (s Shared) HTTPSEndpoint() string { return s.EdgeScheme + "://" + s.GatewayHostname }
func (s Shared) WSEndpoint() string {
	return s.endpoint("ws", "ws", s.WebSocketHostname, PortWebSocket)
}
func (s Shared) WSSEndpoint() string {
	return s.endpoint("ws", "wss", s.WebSocketHostname, PortWebSocketSecure)
}
func (s Shared) WebSubHTTPEndpoint() string {
	return s.endpoint("http", "http", s.WebSubHostname, PortWebSub)
}
func (s Shared) WebSubHTTPSEndpoint() string {
	return s.endpoint("http", "https", s.WebSubHostname, PortWebSubSecure)
}

// endpoint is the edge's URL of host (base scheme made secure when the edge is https), or the
// listener's own URL (scheme://GatewayHostname:port) when the host is not published.
func (s Shared) endpoint(base, scheme, host string, port int) string {
	if host == "" {
		return fmt.Sprintf("%s://%s:%d", scheme, s.GatewayHostname, port)
	}
	if s.EdgeScheme == "https" {
		base += "s"
	}
	return base + "://" + host
}

// LogsDir is where the server writes its logs, under ServerHome.
const LogsDir = "repository/logs"

// AnalyticsType is how API Manager publishes analytics ([apim.analytics] type).
type AnalyticsType string

// Analytics types.
const (
	// AnalyticsOff publishes none.
	AnalyticsOff AnalyticsType = ""
	// AnalyticsELK logs each event (WSO2's ELK reporter) for a shipper to carry.
	AnalyticsELK AnalyticsType = "elk"
	// AnalyticsMoesif sends events to Moesif (SaaS) with MoesifKey.
	AnalyticsMoesif AnalyticsType = "moesif"
)

// Analytics configures where API Manager sends analytics.
type Analytics struct {
	// Type is AnalyticsOff, AnalyticsELK or AnalyticsMoesif.
	Type AnalyticsType
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
	// node's disk (the image's layer); GKE evicts a pod past its limit. Requested: the logs a
	// busy server keeps for good (up to ~1.5Gi, logs.go) and its tmp/. Limit: that plus a heap
	// dump (validateDisk).
	w.Resources = w.Resources.WithDefaults(kube.Resources{
		Requests: kube.Compute{CPU: "2", Memory: "2Gi", EphemeralStorage: "2Gi"},
		Limits:   kube.Compute{CPU: "3", Memory: "3Gi", EphemeralStorage: "8Gi"},
	})
	if w.HeapMB == 0 {
		w.HeapMB = 2048
	}
	if w.MinReadySeconds == nil {
		v := 30
		w.MinReadySeconds = &v
	}
	if w.PreStopSeconds == 0 {
		w.PreStopSeconds = 15
	}
	if w.NodeSpread == "" {
		w.NodeSpread = kube.SpreadNodesPreferred
	}
	return w
}

// WithDefaults returns a copy of s with every empty setting replaced by its default.
func (s Shared) WithDefaults() Shared {
	if s.AdminUsername == "" {
		s.AdminUsername = "admin"
	}
	if s.Database.Port == 0 {
		s.Database.Port = mysql.Port
	}
	if s.EdgeScheme == "" {
		s.EdgeScheme = "https"
	}
	if s.Database.SSLMode == "" {
		s.Database.SSLMode = SSLRequired
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
	p.Add(w.validateDisk(key)...)
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
		{"Keystores", s.Keystores == nil},
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
// start without: the shared settings' own rules unless the workload's args were resolved
// (their caller checked those), and always what the caller wires in after resolving (the
// database, the credentials, the namespace).
func check(what string, p validate.Problems, s Shared, resolved bool) error {
	if !resolved {
		p.Add(ValidateAdminUsername("AdminUsername", s.AdminUsername)...)
		p.Add(s.JDBCDriver.Validate("JDBCDriver")...)
	}
	p.OneOf("Database.SSLMode", s.Database.SSLMode, SSLRequired, SSLVerifyCA, SSLVerifyIdentity)
	p.OneOf("EdgeScheme", s.EdgeScheme, "https", "http")
	if s.Database.SSLMode != SSLRequired && s.Database.ServerCA == nil {
		p.Addf("Database.ServerCA", "missing; sslMode %s checks the server's certificate against its CA: pass the CA's PEM certificate", s.Database.SSLMode)
	}
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
	// Replicas is the number of control plane nodes, 1 to MaxControlPlaneReplicas. With two
	// or more they run active-active as WSO2 4.7 documents it: each node forwards the
	// throttling events it receives to the others' brokers, and gateways publish to and
	// listen on every node, so losing one loses no token issuing, throttling or publishing.
	// Defaults to 1.
	Replicas int `json:"replicas"`

	// resolved says Resolve defaulted and validated these args without a problem: the
	// control plane then trusts them.
	resolved bool
}

// MaxControlPlaneReplicas bounds apim.replicas: every node holds a connection to every other
// node's broker, and WSO2 documents active-active for two.
const MaxControlPlaneReplicas = 5

// NodesService is the headless Service that names each control plane node
// (<name>-<i>.<name>-nodes).
func NodesService(controlPlane string) string { return controlPlane + "-nodes" }

// NodeHosts are the control plane nodes' in-cluster host names, node 0 first: their event hub,
// traffic manager and broker addresses.
func NodeHosts(controlPlane string, replicas int) []string {
	var out []string
	for i := range replicas {
		out = append(out, fmt.Sprintf("%s-%d.%s", controlPlane, i, NodesService(controlPlane)))
	}
	return out
}

// credentialsConflict says both an existing Secret (Credentials) and the values it would
// hold were given: the values would land in a Secret the pods do not read.
func (a ControlPlaneArgs) credentialsConflict() bool {
	return a.Shared.Credentials != (Credentials{}) && (a.AdminPassword != nil || a.EncryptionKey != nil) &&
		a.Shared.Credentials.AdminPassword.Name != a.Name+"-credentials"
}

// CredentialsSecret is the Secret the control plane named name creates for AdminPassword and
// EncryptionKey (and MoesifKey), and its keys.
func CredentialsSecret(name string) Credentials {
	secret := name + "-credentials"
	return Credentials{
		AdminPassword: kube.SecretRef{Name: secret, Key: "admin-password"},
		EncryptionKey: kube.SecretRef{Name: secret, Key: "encryption-key"},
	}
}

// Resolve returns a with every default applied (WithDefaults) and the problems of the result
// (Validate, each key prefixed with key). Args it returns without a problem are trusted:
// Resolving them again, as NewControlPlane does, returns them as they are.
func (a ControlPlaneArgs) Resolve(key string) (ControlPlaneArgs, validate.Problems) {
	if a.resolved {
		return a, nil
	}
	a = a.WithDefaults()
	p := a.Validate(key)
	a.resolved = len(p) == 0
	return a, p
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a ControlPlaneArgs) WithDefaults() ControlPlaneArgs {
	validate.Ran("apim.ControlPlaneArgs.WithDefaults")
	a.Workload = a.Workload.withDefaults("apim-cp", productControlPlane)
	a.Shared = a.Shared.WithDefaults()
	if a.GatewayService == "" {
		a.GatewayService = "apim-gw"
	}
	if a.GatewaySelector == nil {
		a.GatewaySelector = kube.Selector(a.GatewayService, ComponentGateway)
	}
	if a.Replicas == 0 {
		a.Replicas = 1
	}
	return a
}

// Validate checks defaulted args; key prefixes every message (e.g. "apim").
func (a ControlPlaneArgs) Validate(key string) validate.Problems {
	validate.Ran("apim.ControlPlaneArgs.Validate")
	p := a.Workload.Validate(key)
	p.Between(validate.Key(key, "replicas"), a.Replicas, 1, MaxControlPlaneReplicas)
	return p
}

// GatewayArgs configures the gateway. The JSON names are the settings of a stack's `gateway`
// config key.
type GatewayArgs struct {
	Workload
	Shared `json:"-"`
	// ControlPlaneService is the in-cluster Service of the control plane (key manager,
	// portals). Defaults to "apim-cp".
	ControlPlaneService string `json:"-"`
	// ControlPlaneReplicas is how many control plane nodes there are: the gateway publishes
	// throttling events to, and listens for events and decisions on, each of them
	// (NodeHosts). Defaults to 1.
	ControlPlaneReplicas int `json:"-"`
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

	// resolved says Resolve defaulted and validated these args without a problem: the
	// gateway then trusts them.
	resolved bool
}

// Resolve returns a with every default applied (WithDefaults) and the problems of the result
// (Validate, each key prefixed with key). Args it returns without a problem are trusted:
// Resolving them again, as NewGateway does, returns them as they are.
func (a GatewayArgs) Resolve(key string) (GatewayArgs, validate.Problems) {
	if a.resolved {
		return a, nil
	}
	a = a.WithDefaults()
	p := a.Validate(key)
	a.resolved = len(p) == 0
	return a, p
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a GatewayArgs) WithDefaults() GatewayArgs {
	validate.Ran("apim.GatewayArgs.WithDefaults")
	a.Workload = a.Workload.withDefaults("apim-gw", productGateway)
	a.Shared = a.Shared.WithDefaults()
	if a.ControlPlaneService == "" {
		a.ControlPlaneService = "apim-cp"
	}
	if a.ControlPlaneReplicas == 0 {
		a.ControlPlaneReplicas = 1
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
	validate.Ran("apim.GatewayArgs.Validate")
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

// Service port names of the listeners the edge routes to (ingress backends name them).
const (
	PortNameHTTPS           = "https"
	PortNameGatewayHTTPS    = "gw-https"
	PortNameWebSocketSecure = "websocket-https"
	PortNameWebSubSecure    = "websub-https"
)

// DevportalPath is the developer portal's path on the management host: an uptime check asks
// for it.
const DevportalPath = "/devportal"

// ReadinessPath is where API Manager reports that it has started and deployed its APIs: the
// pods' readiness probe and the load balancer's health check.
const ReadinessPath = "/api/am/gateway/v2/server-startup-healthcheck"

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

package monitoring

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Args configures the Cloud Monitoring side. The JSON names are settings of a stack's
// `monitoring` config key; the rest is what the platform knows of what is watched.
type Args struct {
	// NotificationEmails each get an email notification channel that every alert policy
	// notifies. Defaults to none: the policies exist, open incidents in the console, and
	// notify nobody (a preview warning says so).
	NotificationEmails []string `json:"notificationEmails"`
	// Alerts are the policies' thresholds.
	Alerts Thresholds `json:"alerts"`

	// Project holds the policies, checks, channels and dashboard. Required.
	Project string `json:"-"`
	// Prefix starts every display name, e.g. "apim-prod", so that several stacks in one
	// project stay apart. Required.
	Prefix string `json:"-"`
	// Watched is what the policies and the dashboard look at. Required.
	Watched Watched `json:"-"`
	// Labels are put on every policy, check and channel (the cluster's labels).
	Labels map[string]string `json:"-"`
}

// Thresholds are the alert policies' thresholds, one per policy; each has a default. The JSON
// names are the settings of `monitoring.alerts`.
type Thresholds struct {
	// Gateway5xxPercent: the share of the gateway's requests the load balancer answers with a
	// 5xx, over 5 minutes, for 5 minutes. 1..100, defaults to 5.
	Gateway5xxPercent int `json:"gateway5xxPercent"`
	// GatewayLatencyP95Ms: the 95th percentile of the load balancer's total latency of
	// gateway requests, over 5 minutes, for 5 minutes. 1..60000, defaults to 2000.
	GatewayLatencyP95Ms int `json:"gatewayLatencyP95Ms"`
	// UptimeFailedMinutes: how long an uptime check fails from more than one location before
	// the policy fires. 1..1440, defaults to 5.
	UptimeFailedMinutes int `json:"uptimeFailedMinutes"`
	// PodsNotReadyMinutes: how long a Deployment or StatefulSet of the namespace has fewer
	// ready replicas than it wants. 1..1440, defaults to 15: a new API Manager pod may take
	// 10 minutes to start on a cold node.
	PodsNotReadyMinutes int `json:"podsNotReadyMinutes"`
	// ContainerRestarts: more restarts than this of one container in 30 minutes is a crash
	// loop. 1..1000, defaults to 3.
	ContainerRestarts int `json:"containerRestarts"`
	// HPAAtMaxMinutes: how long the gateway's HPA runs at its maxReplicas. 1..1440, defaults
	// to 30.
	HPAAtMaxMinutes int `json:"hpaAtMaxMinutes"`
	// NodePoolAtMaxMinutes: how long the node pool runs at its largest size. 1..1440,
	// defaults to 30.
	NodePoolAtMaxMinutes int `json:"nodePoolAtMaxMinutes"`
	// DatabaseCPUPercent: the database's CPU use against what it has, for 10 minutes.
	// 1..100, defaults to 80.
	DatabaseCPUPercent int `json:"databaseCpuPercent"`
	// DatabaseDiskPercent: the database's disk (Cloud SQL) or data volume (in-cluster) use.
	// 1..100, defaults to 85.
	DatabaseDiskPercent int `json:"databaseDiskPercent"`
	// DatabaseConnectionsPercent: open connections against mysql.maxConnections, for 10
	// minutes (Cloud SQL; an in-cluster MySQL exports no connection count). 1..100,
	// defaults to 80.
	DatabaseConnectionsPercent int `json:"databaseConnectionsPercent"`
	// CertificateExpiryDays: days before a certificate the deployment manages expires (the
	// public hosts' and the keystores'). 1..365, defaults to 30.
	CertificateExpiryDays int `json:"certificateExpiryDays"`
}

// Watched is what is monitored, as the platform deploys it.
type Watched struct {
	// ClusterName and ClusterLocation are the GKE cluster's; Namespace holds the workloads.
	ClusterName, ClusterLocation, Namespace string
	// ControlPlane is the control plane's StatefulSet; Gateway the gateway's Deployment and
	// its HorizontalPodAutoscaler, behind GatewayService on GatewayPort.
	ControlPlane, Gateway, GatewayService string
	GatewayPort                           int
	// Hosts are the public hosts the uptime checks probe; none without an ingress.
	Hosts []Host
	// Database is Cloud SQL's or the in-cluster server's.
	Database Database
	// MaxNodes is the most nodes the node pool may have (over all zones).
	MaxNodes int
	// KeystoresExpire is when the keystores' certificates expire (RFC 3339); nil when the
	// keystores are the user's, "" until they exist.
	KeystoresExpire pulumi.StringInput
}

// Host is one public host of the ingress.
type Host struct {
	// Name is short ("gw", "am") and names the check.
	Name string
	// Host is the DNS name, e.g. gw.apim.example.com; Path the one probed.
	Host, Path string
	// HTTPS probes on 443 (else HTTP on 80); ValidateSSL checks the certificate, which the
	// certificate expiry alert then reads.
	HTTPS, ValidateSSL bool
	// AnyAnswer accepts any status but a 5xx: the gateway answers 404 for a path that is no
	// API, which still proves it answers; a 5xx is the load balancer finding no backend.
	AnyAnswer bool
}

// Database is what the database alerts read: CloudSQL's instance, or the in-cluster server's
// StatefulSet.
type Database struct {
	// CloudSQLInstancePrefix starts the Cloud SQL instance's name (the provider adds a
	// random suffix); empty for an in-cluster server.
	CloudSQLInstancePrefix string
	// MaxConnections is the server's max_connections.
	MaxConnections int
	// StatefulSet, Container and Volume are the in-cluster server's.
	StatefulSet, Container, Volume string
}

// WithDefaults returns a copy with every threshold left 0 set to its default.
func (a Args) WithDefaults() Args {
	t := &a.Alerts
	for _, d := range []struct {
		v   *int
		def int
	}{
		{&t.Gateway5xxPercent, 5}, {&t.GatewayLatencyP95Ms, 2000}, {&t.UptimeFailedMinutes, 5},
		{&t.PodsNotReadyMinutes, 15}, {&t.ContainerRestarts, 3}, {&t.HPAAtMaxMinutes, 30},
		{&t.NodePoolAtMaxMinutes, 30}, {&t.DatabaseCPUPercent, 80}, {&t.DatabaseDiskPercent, 85},
		{&t.DatabaseConnectionsPercent, 80}, {&t.CertificateExpiryDays, 30},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	return a
}

var emailRe = regexp.MustCompile(`^[^@\s"'<>]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`)

// placeholderDomains are the documentation domains (RFC 2606): mail to them goes nowhere.
var placeholderDomains = []string{"example.com", "example.org", "example.net", "invalid", "localhost"}

// Validate checks the settings of defaulted args; key prefixes every message ("monitoring").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	for i, e := range a.NotificationEmails {
		ek := fmt.Sprintf("%s[%d]", k("notificationEmails"), i)
		if !emailRe.MatchString(e) {
			p.Addf(ek, "%q is not valid; want an email address such as oncall@yourcompany.com", e)
			continue
		}
		domain := strings.ToLower(e[strings.LastIndex(e, "@")+1:])
		for _, d := range placeholderDomains {
			if domain == d || strings.HasSuffix(domain, "."+d) {
				p.Addf(ek, "%q is at a documentation domain (%s) that receives no mail; set a mailbox someone reads", e, d)
			}
		}
	}
	t := a.Alerts
	al := func(name string) string { return k("alerts." + name) }
	p.Between(al("gateway5xxPercent"), t.Gateway5xxPercent, 1, 100)
	p.Between(al("gatewayLatencyP95Ms"), t.GatewayLatencyP95Ms, 1, 60000)
	p.Between(al("uptimeFailedMinutes"), t.UptimeFailedMinutes, 1, 1440)
	p.Between(al("podsNotReadyMinutes"), t.PodsNotReadyMinutes, 1, 1440)
	p.Between(al("containerRestarts"), t.ContainerRestarts, 1, 1000)
	p.Between(al("hpaAtMaxMinutes"), t.HPAAtMaxMinutes, 1, 1440)
	p.Between(al("nodePoolAtMaxMinutes"), t.NodePoolAtMaxMinutes, 1, 1440)
	p.Between(al("databaseCpuPercent"), t.DatabaseCPUPercent, 1, 100)
	p.Between(al("databaseDiskPercent"), t.DatabaseDiskPercent, 1, 100)
	p.Between(al("databaseConnectionsPercent"), t.DatabaseConnectionsPercent, 1, 100)
	p.Between(al("certificateExpiryDays"), t.CertificateExpiryDays, 1, 365)
	return p
}

// PlaceholderDomain says host is in a documentation domain, where no uptime check can pass.
func PlaceholderDomain(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range placeholderDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// NotifiesNobody is the preview's warning when no notification channel is configured ("" when
// one is).
func (a Args) NotifiesNobody() string {
	if len(a.NotificationEmails) > 0 {
		return ""
	}
	return "monitoring.notificationEmails is empty: the alert policies open incidents in Cloud Monitoring but notify nobody; " +
		"set who is on call: `pulumi config set --path 'monitoring.notificationEmails[0]' oncall@yourcompany.com`"
}

// NEGNamePattern is a regular expression for the names GKE's Ingress controller gives the
// network endpoint groups of a Service port, which the load balancer's metrics carry as
// backend_name: k8s1-<cluster uid, 8>-<namespace>-<service>-<port>-<hash, 8> (kubernetes/
// ingress-gce, pkg/utils/namer, Namer.NEG). The controller trims namespace, name and port
// together to NEGDescriptiveLimit characters; NEGNameTrimmed says when that happens.
func NEGNamePattern(namespace, service string, port int) string {
	return fmt.Sprintf("k8s1-[0-9a-f]+-%s-%s-%d-[0-9a-f]+", namespace, service, port)
}

// NEGDescriptiveLimit is how many characters of namespace, service name and port the NEG name
// keeps (ingress-gce's maxNEGDescriptiveLabel).
const NEGDescriptiveLimit = 38

// NEGNameTrimmed says GKE shortens the namespace and service in the NEG's name, which
// NEGNamePattern then would not match.
func NEGNameTrimmed(namespace, service string, port int) bool {
	return len(namespace)+len(service)+len(fmt.Sprint(port)) > NEGDescriptiveLimit
}

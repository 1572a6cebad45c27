package apim

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
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
// container downloads it and refuses to start the server unless its sha256 matches, so a
// private mirror works and a tampered jar never runs.
type JDBCDriver struct {
	// URL of the jar (http or https). Required.
	URL string
	// SHA256 of the jar, 64 hex characters. Required.
	SHA256 string
	// Image runs the download; it needs wget and sha256sum. Defaults to busybox:1.37.
	Image string
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

// Workload holds what both API Manager workloads configure the same way.
type Workload struct {
	// Namespace to deploy into. Required.
	Namespace pulumi.StringInput
	// Name of the Deployment and its Service. Defaults to "apim-cp" / "apim-gw".
	Name string
	// Image defaults to wso2/wso2am:4.7.0 (control plane) or wso2/wso2am-universal-gw:4.7.0.
	Image string
	// ServerHome is the product directory inside the image. Defaults to
	// /home/wso2carbon/<image name>-<tag>, e.g. /home/wso2carbon/wso2am-4.7.0.
	ServerHome string
	// Resources default to the 2019 article's numbers, which match WSO2's chart today:
	// requests 2 CPU / 2Gi, limits 3 CPU / 3Gi.
	Resources kube.Resources
	// HeapMB is the JVM heap (-Xms and -Xmx). Defaults to 2048, two thirds of the default
	// 3Gi limit; the rest is metaspace, threads and direct buffers.
	HeapMB int
	// MinReadySeconds a new pod must stay ready before the rollout continues. Defaults to
	// 30, as in the article: it catches pods that pass one readiness check and then fail.
	MinReadySeconds *int
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
	// Analytics is rendered as the [apim.analytics] block. Defaults to analytics off.
	Analytics Analytics
	// PodLabels are added to the pods, e.g. to let them through another NetworkPolicy.
	PodLabels map[string]string
	// SharedVolumes are ReadWriteMany claims mounted into the server home (userstores and
	// tenants, see the nfs component).
	SharedVolumes []SharedVolume
	// ServiceAnnotations are put on the Service, e.g. what a load balancer needs (see
	// ingress.ServiceAnnotations).
	ServiceAnnotations map[string]string
	// LogsVolume, when set, makes the server's repository/logs an emptyDir of this name that
	// Sidecars can mount, e.g. an analytics log shipper.
	LogsVolume string
	// Sidecars run beside API Manager in each pod; ExtraVolumes are the volumes they need.
	Sidecars     []corev1.ContainerArgs
	ExtraVolumes []corev1.VolumeArgs
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

func (w Workload) withDefaults(name, repo string) Workload {
	if w.Name == "" {
		w.Name = name
	}
	if w.Image == "" {
		w.Image = "wso2/" + repo + ":4.7.0"
	}
	if w.ServerHome == "" {
		w.ServerHome = "/home/wso2carbon/" + repo + "-" + kube.ImageTag(w.Image)
	}
	w.Resources = w.Resources.WithDefaults(kube.Resources{
		Requests: kube.Compute{CPU: "2", Memory: "2Gi"},
		Limits:   kube.Compute{CPU: "3", Memory: "3Gi"},
	})
	if w.HeapMB == 0 {
		w.HeapMB = 2048
	}
	if w.MinReadySeconds == nil {
		v := 30
		w.MinReadySeconds = &v
	}
	if w.AdminUsername == "" {
		w.AdminUsername = "admin"
	}
	if w.Database.Port == 0 {
		w.Database.Port = 3306
	}
	if w.JDBCDriver.Image == "" {
		w.JDBCDriver.Image = "busybox:1.37"
	}
	return w
}

func (w Workload) missing() []string {
	var m []string
	for _, f := range []struct {
		field string
		empty bool
	}{
		{"Namespace", w.Namespace == nil},
		{"Credentials", w.Credentials.AdminPassword.Name == "" || w.Credentials.EncryptionKey.Name == ""},
		{"Database", w.Database.Host == "" || w.Database.Username == "" || w.Database.Password.Name == ""},
		{"JDBCDriver", w.JDBCDriver.URL == "" || w.JDBCDriver.SHA256 == ""},
		{"ManagementHostname", w.ManagementHostname == ""},
		{"GatewayHostname", w.GatewayHostname == ""},
	} {
		if f.empty {
			m = append(m, f.field)
		}
	}
	return m
}

// ControlPlaneArgs configures the control plane.
type ControlPlaneArgs struct {
	Workload
	// AdminPassword and EncryptionKey (32 or 64 hex characters) are stored in a Secret the
	// control plane creates, whose keys it reports in ControlPlane.Credentials for the
	// gateways. Required unless Workload.Credentials names an existing Secret.
	AdminPassword, EncryptionKey pulumi.StringInput
	// MoesifKey, when set, is stored in the same Secret under "moesif-key" for gateways
	// that send analytics to Moesif.
	MoesifKey pulumi.StringInput
	// GatewayService is the in-cluster Service of the gateways the control plane deploys
	// APIs to. Defaults to "apim-gw".
	GatewayService string
	// GatewaySelector are the gateway pods' labels: only they may reach the event hub and
	// throttling ports. Defaults to the default gateway's selector.
	GatewaySelector map[string]string
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a ControlPlaneArgs) WithDefaults() ControlPlaneArgs {
	a.Workload = a.Workload.withDefaults("apim-cp", "wso2am")
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

// GatewayArgs configures the gateway.
type GatewayArgs struct {
	Workload
	// ControlPlaneService is the in-cluster Service of the control plane (event hub, key
	// manager, traffic manager). Defaults to "apim-cp".
	ControlPlaneService string
	// MinReplicas and MaxReplicas bound the HorizontalPodAutoscaler. Default 1 and 2, the
	// article's numbers.
	MinReplicas, MaxReplicas int
	// CPUTargetPercent is the average CPU utilisation (of requests) the autoscaler keeps.
	// Defaults to 70, the article's number.
	CPUTargetPercent int
	// ScaleDownStabilizationSeconds is how long load must stay low before pods are removed,
	// so the gateway does not flap. Defaults to 300.
	ScaleDownStabilizationSeconds int
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a GatewayArgs) WithDefaults() GatewayArgs {
	a.Workload = a.Workload.withDefaults("apim-gw", "wso2am-universal-gw")
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
	if a.ScaleDownStabilizationSeconds == 0 {
		a.ScaleDownStabilizationSeconds = 300
	}
	return a
}

// Component labels.
const (
	ComponentControlPlane = "control-plane"
	ComponentGateway      = "gateway"
)

// Ports API Manager listens on.
const (
	PortHTTPS         = 9443 // publisher, devportal, admin, REST APIs, /services
	PortHTTP          = 9763 // servlet HTTP, used by the liveness probe
	PortGatewayHTTPS  = 8243
	PortGatewayHTTP   = 8280
	PortThrottle      = 9611 // traffic manager binary (TCP)
	PortThrottleSSL   = 9711 // traffic manager binary (SSL)
	PortEventHub      = 5672 // JMS: event hub notifications and throttle decisions
	configVolumeRoot  = "/home/wso2carbon/wso2-config-volume"
	jdbcDriverVolName = "jdbc-driver"
)

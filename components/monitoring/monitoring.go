package monitoring

import (
	"fmt"
	"strings"

	gcpmonitoring "github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/monitoring"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Monitoring is the component's public face.
type Monitoring struct {
	pulumi.ResourceState

	// Policies are the alert policies' names, by the policy names of Runbooks.
	Policies map[string]pulumi.StringOutput
	// DashboardID is the dashboard's resource ID.
	DashboardID pulumi.IDOutput
}

// Severity of each policy: an outage or a loss of capacity now is an error, a trend that will
// become one a warning.
var Severity = map[string]string{
	"gateway-5xx": "ERROR", "uptime": "ERROR", "pods-not-ready": "ERROR", "crash-looping": "ERROR",
	"gateway-latency": "WARNING", "certificate-expiry": "WARNING", "keystores-expiry": "WARNING",
	"hpa-at-max": "WARNING", "node-pool-at-max": "WARNING",
	"database-cpu": "WARNING", "database-disk": "WARNING", "database-connections": "WARNING",
}

// NewMonitoring creates the notification channels, the uptime checks, the alert policies and
// the dashboard. Pass the gcp provider in opts. Nothing here waits for the cluster or the
// database: the filters name them by what config knows.
func NewMonitoring(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if args == nil {
		return nil, fmt.Errorf("monitoring %q: args are required", name)
	}
	a := args.WithDefaults()
	p := a.Validate("")
	p.Required("Project", a.Project, "the Google Cloud project")
	p.Required("Prefix", a.Prefix, "a display name prefix such as apim-prod")
	w := a.Watched
	if w.ClusterName == "" || w.Namespace == "" || w.Gateway == "" || w.ControlPlane == "" || w.MaxNodes < 1 {
		p.Addf("Watched", "ClusterName, Namespace, Gateway, ControlPlane and MaxNodes are required")
	}
	if err := p.Err(fmt.Sprintf("monitoring %q", name)); err != nil {
		return nil, err
	}
	m := &Monitoring{Policies: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource("wso2apim:monitoring:Monitoring", name, m, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(m)
	labels := pulumi.ToStringMap(a.Labels)

	var channels pulumi.StringArray
	for i, email := range a.NotificationEmails {
		ch, err := gcpmonitoring.NewNotificationChannel(ctx, fmt.Sprintf("%s-email-%d", name, i), &gcpmonitoring.NotificationChannelArgs{
			Project:     pulumi.String(a.Project),
			DisplayName: pulumi.String(a.displayName(email)),
			Type:        pulumi.String("email"),
			Labels:      pulumi.StringMap{"email_address": pulumi.String(email)},
			UserLabels:  labels,
		}, parent)
		if err != nil {
			return nil, err
		}
		channels = append(channels, ch.Name)
	}

	checks := map[string]pulumi.StringOutput{}
	for _, h := range w.Hosts {
		check, err := newUptimeCheck(ctx, name, a, h, parent)
		if err != nil {
			return nil, err
		}
		checks[h.Name] = check.UptimeCheckId
	}

	for _, pol := range a.policies(checks) {
		ap, err := gcpmonitoring.NewAlertPolicy(ctx, name+"-"+pol.name, &gcpmonitoring.AlertPolicyArgs{
			Project:              pulumi.String(a.Project),
			DisplayName:          pulumi.String(a.displayName(pol.title)),
			Combiner:             pulumi.String("OR"),
			Conditions:           pol.conditions,
			NotificationChannels: channels,
			Severity:             pulumi.String(Severity[pol.name]),
			Documentation: &gcpmonitoring.AlertPolicyDocumentationArgs{
				Content:  pulumi.String(strings.ReplaceAll(pol.runbook, "-n NS", "-n "+w.Namespace)),
				MimeType: pulumi.String("text/markdown"),
			},
			UserLabels: labels,
		}, parent)
		if err != nil {
			return nil, err
		}
		m.Policies[pol.name] = ap.Name
	}

	dash, err := gcpmonitoring.NewDashboard(ctx, name, &gcpmonitoring.DashboardArgs{
		Project:       pulumi.String(a.Project),
		DashboardJson: pulumi.String(a.DashboardJSON()),
	}, parent)
	if err != nil {
		return nil, err
	}
	m.DashboardID = dash.ID()
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{"dashboard": dash.ID()}); err != nil {
		return nil, err
	}
	return m, nil
}

// newUptimeCheck probes one public host every minute from Cloud Monitoring's locations.
func newUptimeCheck(ctx *pulumi.Context, name string, a Args, h Host, opts ...pulumi.ResourceOption) (*gcpmonitoring.UptimeCheckConfig, error) {
	port := 80
	if h.HTTPS {
		port = 443
	}
	accepted := gcpmonitoring.UptimeCheckConfigHttpCheckAcceptedResponseStatusCodeArray{
		gcpmonitoring.UptimeCheckConfigHttpCheckAcceptedResponseStatusCodeArgs{StatusClass: pulumi.String("STATUS_CLASS_2XX")},
		gcpmonitoring.UptimeCheckConfigHttpCheckAcceptedResponseStatusCodeArgs{StatusClass: pulumi.String("STATUS_CLASS_3XX")},
	}
	if h.AnyAnswer {
		accepted = append(accepted, gcpmonitoring.UptimeCheckConfigHttpCheckAcceptedResponseStatusCodeArgs{StatusClass: pulumi.String("STATUS_CLASS_4XX")})
	}
	return gcpmonitoring.NewUptimeCheckConfig(ctx, name+"-uptime-"+h.Name, &gcpmonitoring.UptimeCheckConfigArgs{
		Project:     pulumi.String(a.Project),
		DisplayName: pulumi.String(a.displayName(h.Host)),
		Period:      pulumi.String("60s"),
		Timeout:     pulumi.String("10s"),
		HttpCheck: &gcpmonitoring.UptimeCheckConfigHttpCheckArgs{
			Path:                        pulumi.String(h.Path),
			Port:                        pulumi.Int(port),
			UseSsl:                      pulumi.Bool(h.HTTPS),
			ValidateSsl:                 pulumi.Bool(h.HTTPS && h.ValidateSSL),
			RequestMethod:               pulumi.String("GET"),
			AcceptedResponseStatusCodes: accepted,
		},
		MonitoredResource: &gcpmonitoring.UptimeCheckConfigMonitoredResourceArgs{
			Type:   pulumi.String("uptime_url"),
			Labels: pulumi.StringMap{"project_id": pulumi.String(a.Project), "host": pulumi.String(h.Host)},
		},
		UserLabels: pulumi.ToStringMap(a.Labels),
	}, opts...)
}

package platform

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/cloudsql"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/mysql"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// MySQLMode is the `mysql.mode` setting: where API Manager's database runs.
type MySQLMode string

// Database modes.
const (
	// MySQLCloudSQL is Cloud SQL for MySQL, private IP only (mode gke).
	MySQLCloudSQL MySQLMode = "cloudsql"
	// MySQLInCluster is the MySQL StatefulSet with its scheduled backup.
	MySQLInCluster MySQLMode = "incluster"
)

// MySQLModes are the valid database modes.
var MySQLModes = []MySQLMode{MySQLCloudSQL, MySQLInCluster}

// MySQLArgs is the `mysql` key: where API Manager's database runs, and its settings.
type MySQLArgs struct {
	// Mode is cloudsql or incluster. Defaults to cloudsql with cluster.mode gke, incluster
	// with an existing cluster.
	Mode MySQLMode `json:"mode"`
	// The in-cluster server's settings (image, username, storage, resources, backup,
	// protect); in mode cloudsql, image is the mysql client's image (the schema Job and
	// API Manager's wait for the database), and username and protect apply too.
	// maxConnections defaults to what API Manager's pools may open (ConnectionBudget).
	mysql.Args
	// CloudSQL is the instance of mode cloudsql.
	CloudSQL cloudsql.Args `json:"cloudSql"`
}

// AdminConnections are set aside beyond API Manager's pools: the backup, the schema Job, the
// pods' wait for the database, and an operator.
const AdminConnections = 20

// ConnectionBudget is what API Manager's pools may open at once, every pod at its maximum
// replicas plus one rolling-update surge pod of each Deployment, each datasource of each pod at
// its maxActive, plus AdminConnections; and how it was counted. a is defaulted (WithDefaults).
func (a Args) ConnectionBudget() (int, string) {
	cp, gws := a.APIM.Replicas, a.Gateway.MaxReplicas
	cpDS, gwDS := len(apim.DatabasesOf(apim.ComponentControlPlane)), len(apim.DatabasesOf(apim.ComponentGateway))
	// The control plane's StatefulSet replaces a node in place: no surge node.
	n := cp*cpDS*apim.PoolMaxActive + (gws+1)*gwDS*apim.PoolMaxActive + AdminConnections
	how := fmt.Sprintf("apim.replicas %d × %d datasources × %d + (%d gateways at gateway.maxReplicas + 1 surge) × %d datasource × %d + %d for backups, schema loads and administration",
		cp, cpDS, apim.PoolMaxActive, gws, gwDS, apim.PoolMaxActive, AdminConnections)
	return n, how
}

// mysqlDefaults fills in the database settings the platform decides; a has every other default.
func (a Args) mysqlDefaults() MySQLArgs {
	m := a.MySQL
	cl := a.Cluster
	if m.Mode == "" {
		m.Mode = MySQLCloudSQL
		if cl.Mode == ModeExisting {
			m.Mode = MySQLInCluster
		}
	}
	if m.MaxConnections == 0 {
		m.MaxConnections, _ = a.ConnectionBudget()
	}
	m.Args = m.Args.WithDefaults()
	if m.Mode == MySQLCloudSQL {
		c := &m.CloudSQL
		c.Project, c.Region = cl.Project, cl.Region
		// A zonal cluster is a zonal service already: a standby in another zone would cost
		// without making the whole survive a zone.
		if c.Availability == "" && cl.Zone != "" {
			c.Availability = cloudsql.Zonal
		}
		if c.Zone == "" {
			c.Zone = cl.Zone
		}
		c.MaxConnections, c.Username, c.Protect, c.Labels = m.MaxConnections, m.Username, m.Protect, cl.Labels
		m.CloudSQL = c.WithDefaults()
	}
	return m
}

// validateDatabase checks the `mysql` key and what it shares with the rest: the mode against
// the cluster and the connection budget (Cloud SQL's range against the VPC's: cloudSQLRanges).
func (a Args) validateDatabase() validate.Problems {
	var p validate.Problems
	m := a.MySQL
	validate.OneOfMode(&p, "mysql.mode", m.Mode, MySQLModes)
	switch m.Mode {
	case MySQLInCluster:
		p.Add(m.Args.Validate("mysql")...)
	case MySQLCloudSQL:
		// An unknown cluster.mode is reported under its own key only.
		if a.Cluster.Mode == ModeExisting {
			p.Addf("mysql.mode", "%q needs cluster.mode gke; with an existing cluster use %s", m.Mode, MySQLInCluster)
			break
		}
		if a.Cluster.Mode != ModeGKE {
			break
		}
		// The in-cluster server's settings mean nothing here, but those the client uses do.
		client := m.Args
		client.Backup.Enabled = new(bool)
		all := client.Validate("mysql")
		for _, k := range []string{"mysql.image", "mysql.username", "mysql.maxConnections"} {
			p.Add(all.WithPrefix(k)...)
		}
		sql := m.CloudSQL.Validate("mysql.cloudSql")
		if m.CloudSQL.Zone == a.Cluster.Zone {
			// Defaulted from cluster.zone, whose own check covers it.
			sql = slices.DeleteFunc(sql, func(s string) bool { return strings.HasPrefix(s, "mysql.cloudSql.zone:") })
		}
		p.Add(sql...)
	}
	if need, how := a.ConnectionBudget(); m.MaxConnections < need {
		p.Addf("mysql.maxConnections", "%d is below what API Manager's pools may open: %d = %s; raise it, or remove it to use %d",
			m.MaxConnections, need, how, need)
	}
	return p
}

// cloudSQLRanges is Cloud SQL's allocated range, which the VPC routes to Google's producers by
// peering: reserved like Filestore's (gkerules.go), so no other range of the VPC may overlap it.
func (a Args) cloudSQLRanges() []vpcRange {
	if a.MySQL.Mode != MySQLCloudSQL {
		return nil
	}
	return []vpcRange{{key: "mysql.cloudSql.allocatedRange", cidr: a.MySQL.CloudSQL.AllocatedRange,
		rule: "Cloud SQL's allocated range must not overlap the node, pod, service, control-plane or Filestore ranges"}}
}

// databaseServices are the Google Cloud APIs the database calls.
func (a Args) databaseServices() []string {
	switch {
	case a.MySQL.Mode == MySQLCloudSQL:
		return []string{"sqladmin.googleapis.com", "servicenetworking.googleapis.com"}
	case a.Cluster.Mode == ModeGKE && *a.MySQL.Backup.Enabled:
		return []string{"storage.googleapis.com"}
	}
	return nil
}

// database creates API Manager's database: Cloud SQL and its cluster-side Service and schema
// Job, or the in-cluster server with its backup.
func (b *builder) database() error {
	cp, gw := b.a.apimArgs()
	if b.a.MySQL.Mode == MySQLCloudSQL {
		return b.cloudSQL(cp)
	}
	db := b.a.MySQL.Args
	db.Namespace = b.namespace
	db.APIMImage, db.APIMServerHome = cp.Image, cp.ServerHome
	db.RootPassword, db.Password = b.secret[SecretMySQLRootPassword], b.secret[SecretMySQLPassword]
	db.Clients = []kube.Peer{{Pods: kube.Selector(cp.Name, apim.ComponentControlPlane)}, {Pods: kube.Selector(gw.Name, apim.ComponentGateway)}}
	if b.gcp != nil && *db.Backup.Enabled {
		if err := b.backupBucket(&db); err != nil {
			return err
		}
	}
	var err error
	b.work.db, err = mysql.NewMySQL(b.ctx, b.child("mysql"), &db, b.withK8s()...)
	return err
}

// cloudSQL creates the instance (which waits only for the network: it is built while GKE builds
// the cluster) and, in the cluster, the Service API Manager connects to and the schema Job.
func (b *builder) cloudSQL(cp apim.ControlPlaneArgs) error {
	m := b.a.MySQL
	c := m.CloudSQL
	c.Network = b.network.NetworkID
	c.Password = b.secret[SecretMySQLPassword]
	inst, err := cloudsql.NewInstance(b.ctx, b.child("sql"), &c, b.parent, pulumi.Provider(b.gcp), b.afterAPIs())
	if err != nil {
		return err
	}
	b.work.db, err = mysql.NewExternal(b.ctx, b.child("mysql"), &mysql.ExternalArgs{
		Namespace:      b.namespace,
		Name:           m.Name,
		Address:        inst.PrivateIP,
		AddressRange:   c.AllocatedRange,
		Username:       inst.Username,
		Password:       b.secret[SecretMySQLPassword],
		SSLMode:        "VERIFY_CA",
		ServerCA:       inst.ServerCA,
		ClientImage:    m.Image,
		APIMImage:      cp.Image,
		APIMServerHome: cp.ServerHome,
		Markers:        apim.SchemaMarkers,
		After:          inst.Ready,
	}, b.withK8s()...)
	return err
}

// backupBucket gives the in-cluster backup on GKE a Cloud Storage bucket and a Google service
// account that may write, list and delete its objects and nothing else, bound through Workload
// Identity to the backup's Kubernetes service account.
func (b *builder) backupBucket(db *mysql.Args) error {
	cl := b.a.Cluster
	protect := *db.Protect
	withGCP := []pulumi.ResourceOption{b.parent, pulumi.Provider(b.gcp), b.afterAPIs()}
	bucket, err := storage.NewBucket(b.ctx, b.child("mysql-backups"), &storage.BucketArgs{
		Project:                  pulumi.String(cl.Project),
		Location:                 pulumi.String(strings.ToUpper(cl.Region)),
		UniformBucketLevelAccess: pulumi.Bool(true),
		PublicAccessPrevention:   pulumi.String("enforced"),
		// A dump deleted by the backup's pruning, or by anyone, can be restored for a week.
		SoftDeletePolicy: &storage.BucketSoftDeletePolicyArgs{RetentionDurationSeconds: pulumi.Int(7 * 24 * 3600)},
		ForceDestroy:     pulumi.Bool(!protect),
		Labels:           pulumi.ToStringMap(cl.Labels),
	}, append(withGCP, pulumi.Protect(protect))...)
	if err != nil {
		return err
	}
	id := backupAccountID(cl.Name)
	sa, err := serviceaccount.NewAccount(b.ctx, b.child("mysql-backup"), &serviceaccount.AccountArgs{
		Project:     pulumi.String(cl.Project),
		AccountId:   pulumi.String(id),
		DisplayName: pulumi.String("MySQL backups of " + cl.Name),
	}, withGCP...)
	if err != nil {
		return err
	}
	if _, err := storage.NewBucketIAMMember(b.ctx, b.child("mysql-backup-objects"), &storage.BucketIAMMemberArgs{
		Bucket: bucket.Name,
		// Objects only: create, read, list and delete (the retention prunes), no bucket or IAM
		// changes.
		Role:   pulumi.String("roles/storage.objectUser"),
		Member: sa.Member,
	}, withGCP...); err != nil {
		return err
	}
	if _, err := serviceaccount.NewIAMMember(b.ctx, b.child("mysql-backup-wi"), &serviceaccount.IAMMemberArgs{
		ServiceAccountId: sa.Name,
		Role:             pulumi.String("roles/iam.workloadIdentityUser"),
		Member:           pulumi.Sprintf("serviceAccount:%s.svc.id.goog[%s/%s-backup]", cl.Project, b.namespace, db.Name),
	}, withGCP...); err != nil {
		return err
	}
	db.Backup.Bucket, db.Backup.GoogleServiceAccount = bucket.Name, sa.Email
	return nil
}

// backupAccountID derives the backup's service account ID from the cluster name, within IAM's
// 30 characters.
func backupAccountID(cluster string) string {
	const suffix = "-mysql-backup"
	base := cluster
	if len(base) > 30-len(suffix) {
		base = strings.TrimRight(base[:30-len(suffix)], "-")
	}
	return base + suffix
}

// apimDatabase is how API Manager reaches the database.
func (b *builder) apimDatabase() apim.Database {
	db := b.work.db
	return apim.Database{Host: db.Host, Port: db.Port, Username: db.Username, Password: db.PasswordSecret,
		SSLMode: db.SSLMode, ServerCA: db.ServerCA, ClientImage: b.a.MySQL.Image}
}

// databaseEgress is what API Manager's pods may call of the database: the in-cluster server's
// pods, or Cloud SQL's range.
func (a Args) databaseEgress() kube.Rule {
	if a.MySQL.Mode == MySQLCloudSQL {
		return kube.Rule{Peers: []kube.Peer{{CIDR: a.MySQL.CloudSQL.AllocatedRange}}, Ports: kube.TCP(mysql.Port)}
	}
	return kube.Rule{Peers: []kube.Peer{{Pods: mysql.Selector(a.MySQL.Name)}}, Ports: kube.TCP(mysql.Port)}
}

// databasePods are the database's pods the node pool must hold: the in-cluster server and its
// backup, or the schema Job.
func (a Args) databasePods() []pod {
	if a.MySQL.Mode == MySQLCloudSQL {
		return []pod{podOf("mysql-schema", []kube.Resources{mysql.SchemaJobResources}, mysql.SchemaInitResources)}
	}
	pods := []pod{podOf(a.MySQL.Name, []kube.Resources{a.MySQL.Resources}, mysql.SchemaInitResources)}
	if *a.MySQL.Backup.Enabled {
		pods = append(pods, podOf("mysql-backup", []kube.Resources{mysql.BackupResources}))
	}
	return pods
}

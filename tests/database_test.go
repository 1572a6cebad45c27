package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/platform"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	typeCloudSQL      = "wso2apim:cloudsql:Instance"
	typeSQLInstance   = "gcp:sql/databaseInstance:DatabaseInstance"
	typeSQLDatabase   = "gcp:sql/database:Database"
	typeSQLUser       = "gcp:sql/user:User"
	typePSAConnection = "gcp:servicenetworking/connection:Connection"
	typeGlobalAddress = "gcp:compute/globalAddress:GlobalAddress"
	typeExternalDB    = "wso2apim:mysql:External"
	typeJob           = "kubernetes:batch/v1:Job"
	typeEndpointSlice = "kubernetes:discovery.k8s.io/v1:EndpointSlice"
)

// prod and dev run API Manager's database on Cloud SQL, private IP only through Private Service
// Access, TLS required; prod regional with point-in-time recovery and deletion protection, dev
// zonal and smaller.
func TestCloudSQLInProdAndDev(t *testing.T) {
	cases := []struct {
		stack, tier, availability, zone string
		disk, retained                  float64
		maxConnections                  string
		protect                         bool
	}{
		{"prod", "db-custom-4-16384", "REGIONAL", "", 50, 14, "1120", true},
		{"dev", "db-custom-1-3840", "ZONAL", "europe-west1-b", 20, 7, "520", false},
	}
	for _, c := range cases {
		t.Run(c.stack, func(t *testing.T) {
			g := run(t, c.stack, nil)
			assert.Nil(t, g.Find(typeStatefulSet, "apim-mysql"))
			vpc := one(t, g, "gcp:compute/network:Network")
			rng := g.Find(typeGlobalAddress, "apim-sql-range")
			require.NotNil(t, rng)
			assert.Equal(t, "VPC_PEERING", rng.Get("purpose"))
			assert.Equal(t, "10.40.0.0", rng.Get("address"))
			assert.Equal(t, 20.0, rng.Get("prefixLength"))
			assert.Equal(t, vpc.ID, rng.Get("network"), "the stack's own VPC")
			peering := one(t, g, typePSAConnection)
			assert.Equal(t, "servicenetworking.googleapis.com", peering.Get("service"))
			assert.Equal(t, vpc.ID, peering.Get("network"))

			db := one(t, g, typeSQLInstance)
			assert.Equal(t, "MYSQL_8_4", db.Get("databaseVersion"))
			assert.Equal(t, "europe-west1", db.Get("region"))
			assert.Equal(t, harness.TestGCPProject, db.Get("project"))
			assert.True(t, g.DependsOn(db, peering))
			s := "settings."
			assert.Equal(t, c.tier, db.Get(s+"tier"))
			assert.Equal(t, c.availability, db.Get(s+"availabilityType"))
			if c.zone == "" {
				assert.Nil(t, db.Get(s+"locationPreference"))
			} else {
				assert.Equal(t, c.zone, db.Get(s+"locationPreference.zone"), "beside the zonal cluster")
			}
			assert.Equal(t, c.disk, db.Get(s+"diskSize"))
			assert.Equal(t, false, db.Get(s+"ipConfiguration.ipv4Enabled"), "no public address")
			assert.Equal(t, vpc.ID, db.Get(s+"ipConfiguration.privateNetwork"))
			assert.Equal(t, "apim-sql-range", db.Get(s+"ipConfiguration.allocatedIpRange"))
			assert.Equal(t, "ENCRYPTED_ONLY", db.Get(s+"ipConfiguration.sslMode"), "TLS required")
			assert.Equal(t, true, db.Get(s+"backupConfiguration.enabled"))
			assert.Equal(t, true, db.Get(s+"backupConfiguration.binaryLogEnabled"), "point-in-time recovery")
			assert.Equal(t, "02:00", db.Get(s+"backupConfiguration.startTime"))
			assert.Equal(t, 7.0, db.Get(s+"backupConfiguration.transactionLogRetentionDays"))
			assert.Equal(t, c.retained, db.Get(s+"backupConfiguration.backupRetentionSettings.retainedBackups"))
			assert.Equal(t, map[string]any{"day": 7.0, "hour": 4.0, "updateTrack": "stable"}, db.Get(s+"maintenanceWindow"))
			assert.Equal(t, []any{map[string]any{"name": "max_connections", "value": c.maxConnections}}, db.Get(s+"databaseFlags"),
				"sized from API Manager's pools")
			assert.Equal(t, c.protect, db.Get("deletionProtection"))
			assert.Equal(t, c.protect, db.Get(s+"deletionProtectionEnabled"))
			assert.Equal(t, c.protect, db.Protect)

			var names []string
			for _, d := range g.OfType(typeSQLDatabase) {
				names = append(names, d.String("name"))
				assert.Equal(t, "latin1", d.Get("charset"))
			}
			assert.ElementsMatch(t, []string{"apim_db", "shared_db"}, names)
			user := one(t, g, typeSQLUser)
			assert.Equal(t, "apimadmin", user.Get("name"))
			assert.Equal(t, harness.TestSecrets["mysqlPassword"], user.Get("password"), "the stack's mysqlPassword")
			assert.True(t, user.IsSecret("password"))

			// In the cluster: the Service API Manager connects to, pointing at the private IP,
			// and the schema Job, which waits for the databases and the user.
			slice := g.Find(typeEndpointSlice, "apim-mysql")
			require.NotNil(t, slice)
			assert.Equal(t, []any{"10.40.0.3"}, slice.Get("endpoints.0.addresses"), "the instance's private IP")
			job := g.Find(typeJob, "apim-mysql-schema")
			require.NotNil(t, job)
			for _, r := range append(g.OfType(typeSQLDatabase), user) {
				assert.True(t, g.DependsOn(job, r), "the schema Job waits for %s", r.Name)
			}
			assert.Equal(t, harness.MockCloudSQLCA, envOf(job, "spec.template.spec.containers.0")["DB_SERVER_CA"])
			assert.Equal(t, "wso2/wso2am:4.7.0", job.Get("spec.template.spec.initContainers.0.image"))
		})
	}
}

// envOf is a container's environment: name → value, or "secret:<name>/<key>".
func envOf(r *harness.Resource, container string) map[string]string {
	out := map[string]string{}
	list, _ := r.Get(container + ".env").([]any)
	for _, e := range list {
		m := e.(map[string]any)
		if v, ok := m["value"]; ok && v != nil {
			out[m["name"].(string)] = v.(string)
		} else if ref, ok := m["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any); ok {
			out[m["name"].(string)] = "secret:" + ref["name"].(string) + "/" + ref["key"].(string)
		}
	}
	return out
}

// API Manager waits for Cloud SQL over TLS whose server certificate it checks, and may reach
// the instance's range on 3306.
func TestAPIManagerReachesCloudSQLOverVerifiedTLS(t *testing.T) {
	g := run(t, "prod", nil)
	for _, name := range []string{"apim-cp", "apim-gw"} {
		d := apimWorkload(t, g, name)
		w := harness.InitContainer(t, d, "wait-for-database")
		e := envOf(d, w)
		assert.Equal(t, "mysql", e["DB_HOST"], name)
		assert.Equal(t, "VERIFY_CA", e["DB_SSL_MODE"], name)
		assert.Equal(t, harness.MockCloudSQLCA, e["DB_SERVER_CA"], name)
		assert.Equal(t, "secret:mysql-credentials/password", e["DB_PASSWORD"], name)
		assert.Equal(t, "mysql:8.4", d.Get(w+".image"), "%s: mysql.image's client", name)
		np := g.Find(typeNetPol, name)
		assert.Contains(t, np.Get("spec.egress"), map[string]any{
			"to":    []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.40.0.0/20"}}},
			"ports": []any{map[string]any{"protocol": "TCP", "port": 3306.0}},
		}, "%s may reach Cloud SQL's range", name)
	}
}

// The in-cluster server keeps working where it is chosen: local (the default there) backs up
// to a claim and its API Manager pods wait for it; on GKE its dumps go to a Cloud Storage
// bucket through Workload Identity, with a service account that may touch the bucket's objects
// only.
func TestInClusterMySQL(t *testing.T) {
	local := run(t, "local", nil)
	assert.Empty(t, local.WithPrefix("gcp:"))
	sts := local.Find(typeStatefulSet, "apim-mysql")
	require.NotNil(t, sts)
	assert.Equal(t, []any{"--max-connections=520"}, sts.Get("spec.template.spec.containers.0.args"), "sized from the pools")
	cj := local.Find(typeCronJob, "apim-mysql-backup")
	require.NotNil(t, cj)
	assert.Equal(t, "0 */6 * * *", cj.Get("spec.schedule"))
	assert.Equal(t, "mysql-backup", cj.Get("spec.jobTemplate.spec.template.spec.volumes.0.persistentVolumeClaim.claimName"))
	assert.Equal(t, "1Gi", local.Find(typePVC, "apim-mysql-backup").Get("spec.resources.requests.storage"))
	for _, name := range []string{"apim-cp", "apim-gw"} {
		d := apimWorkload(t, local, name)
		e := envOf(d, harness.InitContainer(t, d, "wait-for-database"))
		assert.Equal(t, "mysql", e["DB_HOST"])
		assert.NotContains(t, e, "DB_SERVER_CA", "the in-cluster server's certificate is its own")
	}

	g := run(t, "dev", map[string]any{"mysql.mode": "incluster"})
	assert.Empty(t, g.OfType(typeCloudSQL))
	assert.Empty(t, g.OfType(typePSAConnection))
	bucket := one(t, g, "gcp:storage/bucket:Bucket")
	assert.Equal(t, "EUROPE-WEST1", bucket.Get("location"))
	assert.Equal(t, true, bucket.Get("uniformBucketLevelAccess"))
	assert.Equal(t, "enforced", bucket.Get("publicAccessPrevention"))
	assert.Equal(t, 604800.0, bucket.Get("softDeletePolicy.retentionDurationSeconds"))
	assert.Equal(t, true, bucket.Get("forceDestroy"), "dev: a destroy may empty it")
	assert.False(t, bucket.Protect)
	sa := g.Find("gcp:serviceaccount/account:Account", "apim-mysql-backup")
	require.NotNil(t, sa)
	assert.Equal(t, "apim-dev-mysql-backup", sa.Get("accountId"))
	objects := one(t, g, "gcp:storage/bucketIAMMember:BucketIAMMember")
	assert.Equal(t, "roles/storage.objectUser", objects.Get("role"), "objects only, on this bucket only")
	assert.True(t, g.DependsOn(objects, bucket))
	wi := g.Find("gcp:serviceaccount/iAMMember:IAMMember", "apim-mysql-backup-wi")
	require.NotNil(t, wi)
	assert.Equal(t, "roles/iam.workloadIdentityUser", wi.Get("role"))
	assert.Equal(t, "serviceAccount:"+harness.TestGCPProject+".svc.id.goog[wso2-apim/mysql-backup]", wi.Get("member"))
	ksa := g.Find("kubernetes:core/v1:ServiceAccount", "apim-mysql-backup")
	require.NotNil(t, ksa)
	assert.Equal(t, "apim-dev-mysql-backup@"+harness.TestGCPProject+".iam.gserviceaccount.com", ksa.Get("metadata.annotations[iam.gke.io/gcp-service-account]"))
	cj = g.Find(typeCronJob, "apim-mysql-backup")
	assert.Equal(t, "apim-mysql-backups", envOf(cj, "spec.jobTemplate.spec.template.spec.containers.0")["BACKUP_BUCKET"])
	assert.Nil(t, g.Find(typePVC, "apim-mysql-backup"), "the bucket holds the dumps")
	var apis []string
	for _, s := range g.OfType(typeGCPService) {
		apis = append(apis, s.String("service"))
	}
	assert.Contains(t, apis, "storage.googleapis.com")
	assert.NotContains(t, apis, "sqladmin.googleapis.com")

	prod := run(t, "prod", map[string]any{"mysql.mode": "incluster"})
	assert.True(t, one(t, prod, "gcp:storage/bucket:Bucket").Protect, "prod's backups are protected")
	assert.Equal(t, false, one(t, prod, "gcp:storage/bucket:Bucket").Get("forceDestroy"))
}

// Connections are budgeted from API Manager's pools: prod's (1+1) control planes × 2
// datasources and (6+1) gateways × 1 at 100 each, plus 20.
func TestConnectionBudget(t *testing.T) {
	for stack, want := range map[string]int{"prod": 1120, "dev": 520, "local": 520} {
		var a *platform.Args
		_, err := harness.Run(func(ctx *pulumi.Context) (err error) {
			a, err = stacks.LoadConfig(ctx, stacks.Name)
			return err
		}, stack, harness.Options{})
		require.NoError(t, err, stack)
		got, how := a.ConnectionBudget()
		assert.Equal(t, want, got, "%s: %s", stack, how)
		assert.Equal(t, want, a.MySQL.MaxConnections, "%s: mysql.maxConnections defaults to the budget", stack)
	}
}

// Each database rule, refused before anything is registered, with its exact message.
func TestDatabaseValidation(t *testing.T) {
	expectConfigRefusals(t, []configRefusal{
		{"range over the nodes", "dev", map[string]any{"mysql.cloudSql.allocatedRange": "10.10.0.0/16"},
			"mysql.cloudSql.allocatedRange: 10.10.0.0/16 overlaps cluster.network.nodeCidr (10.10.0.0/20); Cloud SQL's allocated range must not overlap the node, pod, service, control-plane or Filestore ranges"},
		{"range over the pods", "prod", map[string]any{"mysql.cloudSql.allocatedRange": "10.18.0.0/20"},
			"mysql.cloudSql.allocatedRange: 10.18.0.0/20 overlaps cluster.network.podCidr (10.16.0.0/14); Cloud SQL's allocated range must not overlap the node, pod, service, control-plane or Filestore ranges"},
		{"range over the services", "dev", map[string]any{"mysql.cloudSql.allocatedRange": "10.20.0.0/24"},
			"mysql.cloudSql.allocatedRange: 10.20.0.0/24 overlaps cluster.network.serviceCidr (10.20.0.0/20); Cloud SQL's allocated range must not overlap the node, pod, service, control-plane or Filestore ranges"},
		{"range over the control plane", "prod", map[string]any{"mysql.cloudSql.allocatedRange": "172.16.0.0/24"},
			"mysql.cloudSql.allocatedRange: 172.16.0.0/24 overlaps cluster.masterCidr (172.16.0.0/28); Cloud SQL's allocated range must not overlap the node, pod, service, control-plane or Filestore ranges"},
		{"range over Filestore's", "prod", map[string]any{"mysql.cloudSql.allocatedRange": "10.30.0.0/20"},
			"mysql.cloudSql.allocatedRange: 10.30.0.0/20 overlaps nfs.reservedIpRange (10.30.0.0/26); Cloud SQL's allocated range must not overlap the node, pod, service, control-plane or Filestore ranges"},
		{"range too small", "dev", map[string]any{"mysql.cloudSql.allocatedRange": "10.40.0.0/27"},
			"mysql.cloudSql.allocatedRange: 10.40.0.0/27 is too small; want a /24 or larger range: Cloud SQL takes a /24 from it for each region"},
		{"connections below the pools", "prod", map[string]any{"mysql.maxConnections": 800},
			"mysql.maxConnections: 800 is below what API Manager's pools may open: 1120 = apim.replicas 2 × 2 datasources × 100 + " +
				"(6 gateways at gateway.maxReplicas + 1 surge) × 1 datasource × 100 + 20 for backups, schema loads and administration; raise it, or remove it to use 1120"},
		{"connections below the pools, in cluster", "local", map[string]any{"mysql.maxConnections": 151},
			"mysql.maxConnections: 151 is below what API Manager's pools may open: 520 = apim.replicas 1 × 2 datasources × 100 + " +
				"(2 gateways at gateway.maxReplicas + 1 surge) × 1 datasource × 100 + 20 for backups, schema loads and administration; raise it, or remove it to use 520"},
		{"more gateways need more connections", "prod", map[string]any{"mysql.maxConnections": 1120, "gateway.maxReplicas": 8},
			"mysql.maxConnections: 1120 is below what API Manager's pools may open: 1320 = apim.replicas 2 × 2 datasources × 100 + " +
				"(8 gateways at gateway.maxReplicas + 1 surge) × 1 datasource × 100 + 20 for backups, schema loads and administration; raise it, or remove it to use 1320"},
		{"Cloud SQL without GKE", "local", map[string]any{"mysql.mode": "cloudsql"},
			`mysql.mode: "cloudsql" needs cluster.mode gke; with an existing cluster use incluster`},
		{"unknown mode", "dev", map[string]any{"mysql.mode": "rds"}, `mysql.mode: "rds" is not valid; use one of cloudsql, incluster`},
		{"regional without binary logs", "prod", map[string]any{"mysql.cloudSql.backup.binaryLog": false},
			"mysql.cloudSql.availability: REGIONAL needs mysql.cloudSql.backup.enabled and mysql.cloudSql.backup.binaryLog true: Cloud SQL's high availability for MySQL replicates through them"},
		{"bad tier", "dev", map[string]any{"mysql.cloudSql.tier": "db-f1-micro"},
			`mysql.cloudSql.tier: "db-f1-micro" is not valid; want an ENTERPRISE tier such as db-custom-2-7680 (vCPUs, then MiB of memory)`},
		{"bad backup schedule in cluster", "local", map[string]any{"mysql.backup.schedule": "hourly"},
			`mysql.backup.schedule: "hourly" is not valid; want a five-field cron expression in UTC such as "0 */6 * * *"`},
		{"bad client image with Cloud SQL", "dev", map[string]any{"mysql.image": "my sql"},
			`mysql.image: "my sql" is not valid; want an image reference such as mysql:8.4`},
	})
	// In mode cloudsql the in-cluster server's settings are not judged: they are not used.
	_, err := harness.Run(stacks.Program, "dev", harness.Options{Set: map[string]any{"mysql.resources": map[string]any{"requests": map[string]any{"cpu": "9"}}}})
	assert.NoError(t, err)
}

// On GKE with mysql.mode incluster the backup pods reach the server, GKE's metadata server (for
// Workload Identity's token) and Cloud Storage over HTTPS, and nothing else; nothing reaches
// them.
func TestBackupPodsFlowsOnGKE(t *testing.T) {
	g := run(t, "dev", map[string]any{"mysql.mode": "incluster"})
	tr := trafficOf(t, g)
	backup, db, cp := tr.pod(t, "apim-mysql-backup"), tr.pod(t, "apim-mysql"), tr.pod(t, "apim-cp")
	assert.True(t, tr.allows(backup, db, 3306, "TCP"))
	assert.True(t, tr.allows(backup, external("169.254.169.254"), 80, "TCP"), "Workload Identity's tokens")
	assert.True(t, tr.allows(backup, external("169.254.169.252"), 988, "TCP"))
	assert.True(t, tr.allows(backup, external("142.250.1.207"), 443, "TCP"), "Cloud Storage")
	assert.False(t, tr.allows(backup, external("142.250.1.207"), 80, "TCP"))
	assert.False(t, tr.allows(backup, cp, 9443, "TCP"))
	assert.False(t, tr.allows(backup, db, 22, "TCP"))
	assert.False(t, tr.allows(cp, backup, 8080, "TCP"), "nothing connects to a backup pod")
	assert.False(t, tr.allows(external("35.191.10.20"), backup, 443, "TCP"))
	assert.False(t, tr.allows(db, external("169.254.169.254"), 80, "TCP"), "only the backup gets tokens")
}

package cloudsql_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/cloudsql"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeComponent = "wso2apim:cloudsql:Instance"

func boolp(v bool) *bool { return &v }
func intp(v int) *int    { return &v }

// minimal are the required args only; the password is plain: the component must mark it secret.
func minimal() *cloudsql.Args {
	return &cloudsql.Args{
		Project: "p", Region: "europe-west1",
		Network:        pulumi.String("projects/p/global/networks/vpc"),
		MaxConnections: 720,
		Username:       "apimadmin",
		Password:       pulumi.String("db-pw-DO-NOT-USE"),
	}
}

func TestInstanceAlone(t *testing.T) {
	g, inst := harness.Construct(t, harness.GCP("p"), cloudsql.NewInstance, "db", minimal())
	kids := harness.Children(t, g, typeComponent)
	assert.ElementsMatch(t, []string{harness.TypeGCPGlobalAddress + " db-range", harness.TypePSAConnection + " db-psa", harness.TypeSQLInstance + " db",
		harness.TypeSQLDatabase + " db-apim-db", harness.TypeSQLDatabase + " db-shared-db", harness.TypeSQLUser + " db-user"}, kids)

	rng := g.Find(harness.TypeGCPGlobalAddress, "db-range")
	assert.Equal(t, "VPC_PEERING", rng.Get("purpose"))
	assert.Equal(t, "INTERNAL", rng.Get("addressType"))
	assert.Equal(t, "10.40.0.0", rng.Get("address"))
	assert.Equal(t, 20.0, rng.Get("prefixLength"), "the default range is 10.40.0.0/20")
	assert.Equal(t, "projects/p/global/networks/vpc", rng.Get("network"))
	peering := g.Find(harness.TypePSAConnection, "db-psa")
	assert.Equal(t, "servicenetworking.googleapis.com", peering.Get("service"))
	assert.Equal(t, []any{"db-range"}, peering.Get("reservedPeeringRanges"))
	assert.Equal(t, "ABANDON", peering.Get("deletionPolicy"))
	assert.True(t, g.DependsOn(peering, rng))

	db := g.Find(harness.TypeSQLInstance, "db")
	assert.True(t, g.DependsOn(db, peering), "a private IP needs the peering first")
	assert.Nil(t, db.Get("name"), "auto-named: a deleted instance's name is blocked for a week")
	assert.Equal(t, "MYSQL_8_4", db.Get("databaseVersion"))
	assert.Equal(t, "europe-west1", db.Get("region"))
	assert.Equal(t, true, db.Get("deletionProtection"))
	assert.True(t, db.Protect)
	assert.Equal(t, []string{"settings.diskSize"}, db.IgnoreChanges, "the disk grows by itself")
	s := "settings."
	assert.Equal(t, "db-custom-2-7680", db.Get(s+"tier"))
	assert.Equal(t, "ENTERPRISE", db.Get(s+"edition"))
	assert.Equal(t, "REGIONAL", db.Get(s+"availabilityType"))
	assert.Equal(t, 20.0, db.Get(s+"diskSize"))
	assert.Equal(t, true, db.Get(s+"diskAutoresize"))
	assert.Equal(t, true, db.Get(s+"deletionProtectionEnabled"), "Cloud SQL's own guard, for the console and gcloud too")
	assert.Equal(t, map[string]any{"ipv4Enabled": false, "privateNetwork": "projects/p/global/networks/vpc",
		"allocatedIpRange": "db-range", "sslMode": "ENCRYPTED_ONLY"}, db.Get(s+"ipConfiguration"), "private IP only, TLS required")
	assert.Equal(t, map[string]any{"enabled": true, "binaryLogEnabled": true, "startTime": "02:00", "transactionLogRetentionDays": 7.0,
		"backupRetentionSettings": map[string]any{"retainedBackups": 7.0, "retentionUnit": "COUNT"}}, db.Get(s+"backupConfiguration"))
	assert.Equal(t, map[string]any{"day": 7.0, "hour": 4.0, "updateTrack": "stable"}, db.Get(s+"maintenanceWindow"))
	assert.Equal(t, []any{map[string]any{"name": "max_connections", "value": "720"}}, db.Get(s+"databaseFlags"))
	assert.Nil(t, db.Get(s+"locationPreference"), "Cloud SQL chooses the zones")

	for _, d := range []string{"apim_db", "shared_db"} {
		r := g.Find(harness.TypeSQLDatabase, "db-"+map[string]string{"apim_db": "apim-db", "shared_db": "shared-db"}[d])
		require.NotNil(t, r, d)
		assert.Equal(t, d, r.Get("name"))
		assert.Equal(t, "latin1", r.Get("charset"), "WSO2's scripts assume latin1")
		assert.Equal(t, "latin1_swedish_ci", r.Get("collation"))
		assert.True(t, r.Protect)
		assert.True(t, g.DependsOn(r, db))
	}
	user := g.Find(harness.TypeSQLUser, "db-user")
	assert.Equal(t, "apimadmin", user.Get("name"))
	assert.Equal(t, "%", user.Get("host"))
	assert.Equal(t, "db-pw-DO-NOT-USE", user.Get("password"))
	assert.True(t, user.IsSecret("password"), "marked secret by the component")
	assert.Len(t, inst.Ready, 3, "the databases and the user")
	assert.Equal(t, "apimadmin", inst.Username)
}

func TestInstanceArgsAreApplied(t *testing.T) {
	a := minimal()
	a.Tier, a.Availability, a.Zone, a.DiskSizeGB, a.AllocatedRange = "db-custom-1-3840", cloudsql.Zonal, "europe-west1-b", 50, "10.40.0.0/24"
	a.Backup = cloudsql.Backup{StartTime: "23:30", RetainedBackups: 14, TransactionLogRetentionDays: 3, Location: "eu"}
	a.MaintenanceWindow = cloudsql.MaintenanceWindow{Day: 6, Hour: intp(0), UpdateTrack: "canary"}
	a.Protect = boolp(false)
	a.Labels = map[string]string{"env": "dev"}
	g, _ := harness.Construct(t, harness.GCP("p"), cloudsql.NewInstance, "db", a)
	db := g.Find(harness.TypeSQLInstance, "db")
	s := "settings."
	assert.Equal(t, "db-custom-1-3840", db.Get(s+"tier"))
	assert.Equal(t, "ZONAL", db.Get(s+"availabilityType"))
	assert.Equal(t, "europe-west1-b", db.Get(s+"locationPreference.zone"))
	assert.Equal(t, 50.0, db.Get(s+"diskSize"))
	assert.Equal(t, "23:30", db.Get(s+"backupConfiguration.startTime"))
	assert.Equal(t, 14.0, db.Get(s+"backupConfiguration.backupRetentionSettings.retainedBackups"))
	assert.Equal(t, 3.0, db.Get(s+"backupConfiguration.transactionLogRetentionDays"))
	assert.Equal(t, "eu", db.Get(s+"backupConfiguration.location"))
	assert.Equal(t, map[string]any{"day": 6.0, "hour": 0.0, "updateTrack": "canary"}, db.Get(s+"maintenanceWindow"), "hour 0 is midnight, not unset")
	assert.Equal(t, map[string]any{"env": "dev"}, db.Get(s+"userLabels"))
	assert.Equal(t, false, db.Get("deletionProtection"))
	assert.Equal(t, false, db.Get(s+"deletionProtectionEnabled"))
	for _, r := range g.All() {
		assert.False(t, r.Protect, "%s %s", r.Type, r.Name)
	}
	rng := g.Find(harness.TypeGCPGlobalAddress, "db-range")
	assert.Equal(t, "10.40.0.0", rng.Get("address"))
	assert.Equal(t, 24.0, rng.Get("prefixLength"))
}

func TestInstanceRefusesBadArgsBeforeRegistering(t *testing.T) {
	cases := []harness.Refusal[*cloudsql.Args]{
		{"nil", nil, `cloudsql "db": args are required`},
		{"nothing", &cloudsql.Args{}, `cloudsql "db": args: Project, Region, Network, MaxConnections, Username, Password required`},
		{"bad tier and missing password", func() *cloudsql.Args { a := minimal(); a.Tier = "db-n1-standard-2"; a.Password = nil; return a }(),
			`cloudsql "db": tier: "db-n1-standard-2" is not valid; want an ENTERPRISE tier such as db-custom-2-7680 (vCPUs, then MiB of memory); args: Password required`},
	}
	harness.ExpectRefusals(t, cloudsql.NewInstance, "db", cases)
}

func TestValidate(t *testing.T) {
	with := func(f func(a *cloudsql.Args)) cloudsql.Args {
		a := cloudsql.Args{Region: "europe-west1"}
		f(&a)
		return a
	}
	cases := []harness.Validation[cloudsql.Args]{
		{"defaults", with(func(*cloudsql.Args) {}), ""},
		{"enterprise plus", with(func(a *cloudsql.Args) {
			a.Edition, a.Tier = cloudsql.EnterprisePlus, "db-perf-optimized-N-2"
			a.Backup.TransactionLogRetentionDays = 35
		}), ""},
		{"version", with(func(a *cloudsql.Args) { a.Version = "POSTGRES_16" }),
			`mysql.cloudSql.version: "POSTGRES_16" is not valid; want a MySQL 8 version of Cloud SQL such as MYSQL_8_4`},
		{"edition", with(func(a *cloudsql.Args) { a.Edition = "STANDARD" }),
			`mysql.cloudSql.edition: "STANDARD" is not valid; use one of ENTERPRISE, ENTERPRISE_PLUS`},
		{"plus tier on enterprise", with(func(a *cloudsql.Args) { a.Tier = "db-perf-optimized-N-2" }),
			`mysql.cloudSql.tier: "db-perf-optimized-N-2" is not valid; want an ENTERPRISE tier such as db-custom-2-7680 (vCPUs, then MiB of memory)`},
		{"custom tier on enterprise plus", with(func(a *cloudsql.Args) { a.Edition = cloudsql.EnterprisePlus }),
			`mysql.cloudSql.tier: "db-custom-2-7680" is not valid; want an ENTERPRISE_PLUS tier such as db-perf-optimized-N-2`},
		{"availability", with(func(a *cloudsql.Args) { a.Availability = "MULTI" }),
			`mysql.cloudSql.availability: "MULTI" is not valid; use one of REGIONAL, ZONAL`},
		{"zone of another region", with(func(a *cloudsql.Args) { a.Zone = "us-east1-b" }),
			`mysql.cloudSql.zone: "us-east1-b" is not valid; want a zone of region "europe-west1"`},
		{"disk", with(func(a *cloudsql.Args) { a.DiskSizeGB = 5 }), "mysql.cloudSql.diskSizeGb: 5 is not valid; want 10 to 65536 (GB)"},
		{"range form", with(func(a *cloudsql.Args) { a.AllocatedRange = "10.30.0.1/20" }),
			`mysql.cloudSql.allocatedRange: "10.30.0.1/20" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`},
		{"range too small", with(func(a *cloudsql.Args) { a.AllocatedRange = "10.30.0.0/26" }),
			"mysql.cloudSql.allocatedRange: 10.30.0.0/26 is too small; want a /24 or larger range: Cloud SQL takes a /24 from it for each region"},
		{"range public", with(func(a *cloudsql.Args) { a.AllocatedRange = "34.0.0.0/20" }),
			"mysql.cloudSql.allocatedRange: 34.0.0.0/20 is not a private range; want a range of RFC 1918 such as 10.40.0.0/20"},
		{"start time", with(func(a *cloudsql.Args) { a.Backup.StartTime = "2am" }),
			`mysql.cloudSql.backup.startTime: "2am" is not valid; want a UTC time HH:MM such as 02:00`},
		{"retained", with(func(a *cloudsql.Args) { a.Backup.RetainedBackups = 400 }), "mysql.cloudSql.backup.retainedBackups: 400 is not valid; want 1 to 365"},
		{"log days on enterprise", with(func(a *cloudsql.Args) { a.Backup.TransactionLogRetentionDays = 14 }),
			"mysql.cloudSql.backup.transactionLogRetentionDays: 14 is not valid; want 1 to 7"},
		{"binary log without backups", with(func(a *cloudsql.Args) { a.Availability = cloudsql.Zonal; a.Backup.Enabled = boolp(false) }),
			"mysql.cloudSql.backup.binaryLog: true needs mysql.cloudSql.backup.enabled true: Cloud SQL keeps binary logs only with automated backups"},
		{"regional without binary log", with(func(a *cloudsql.Args) { a.Backup.BinaryLog = boolp(false) }),
			"mysql.cloudSql.availability: REGIONAL needs mysql.cloudSql.backup.enabled and mysql.cloudSql.backup.binaryLog true: Cloud SQL's high availability for MySQL replicates through them"},
		{"maintenance day", with(func(a *cloudsql.Args) { a.MaintenanceWindow.Day = 8 }), "mysql.cloudSql.maintenanceWindow.day: 8 is not valid; want 1 to 7"},
		{"maintenance hour", with(func(a *cloudsql.Args) { a.MaintenanceWindow.Hour = intp(24) }), "mysql.cloudSql.maintenanceWindow.hour: 24 is not valid; want 0 to 23"},
		{"update track", with(func(a *cloudsql.Args) { a.MaintenanceWindow.UpdateTrack = "fast" }),
			`mysql.cloudSql.maintenanceWindow.updateTrack: "fast" is not valid; use one of canary, stable, week5`},
	}
	harness.ExpectProblems(t, func(args cloudsql.Args) []string { return args.WithDefaults().Validate("mysql.cloudSql") }, cases)
}

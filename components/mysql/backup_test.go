package mysql_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/mysql"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const podSpec = "spec.jobTemplate.spec.template.spec."

func TestBackupToAClaim(t *testing.T) {
	g, _ := run(t, minimal())
	cj := g.Find(harness.TypeCronJob, "db-backup")
	require.NotNil(t, cj)
	assert.Equal(t, "mysql-backup", cj.Get("metadata.name"))
	assert.Equal(t, "0 */6 * * *", cj.Get("spec.schedule"), "every 6 hours by default")
	assert.Equal(t, "Etc/UTC", cj.Get("spec.timeZone"))
	assert.Equal(t, "Forbid", cj.Get("spec.concurrencyPolicy"), "never two dumps at once")
	assert.Equal(t, 3600.0, cj.Get("spec.startingDeadlineSeconds"))
	assert.Equal(t, 2.0, cj.Get("spec.jobTemplate.spec.backoffLimit"))
	assert.Equal(t, 3600.0, cj.Get("spec.jobTemplate.spec.activeDeadlineSeconds"))
	assert.Equal(t, "database-backup", cj.Get("spec.jobTemplate.spec.template.metadata.labels[app.kubernetes.io/component]"))
	assert.Equal(t, "Never", cj.Get(podSpec+"restartPolicy"))
	assert.Equal(t, false, cj.Get(podSpec+"automountServiceAccountToken"))
	assert.Nil(t, cj.Get(podSpec+"serviceAccountName"))
	c := podSpec + "containers.0."
	assert.Equal(t, "mysql:8.4", cj.Get(c+"image"), "mysqldump and gzip from the server's own image")
	assert.Equal(t, []any{"sh", "-c", mysql.BackupScript}, cj.Get(c+"command"))
	assert.Equal(t, map[string]string{
		"MYSQL_HOST": "mysql", "MYSQL_PORT": "3306", "MYSQL_USER": "root", "MYSQL_PASSWORD": "secret:mysql-credentials/root-password",
		"BACKUP_DATABASES": "apim_db shared_db", "BACKUP_DIR": "/backups", "BACKUP_KEEP": "28", "BACKUP_PREFIX": "mysql",
	}, harness.Env(t, cj, podSpec+"containers.0"))
	assert.Equal(t, true, cj.Get(c+"securityContext.readOnlyRootFilesystem"))
	assert.Equal(t, 999.0, cj.Get(c+"securityContext.runAsUser"))
	assert.Equal(t, map[string]any{"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"}, cj.Get(c+"resources.requests"))
	assert.Equal(t, map[string]any{"cpu": "1", "memory": "512Mi", "ephemeral-storage": "256Mi"}, cj.Get(c+"resources.limits"))
	assert.Equal(t, map[string]any{"name": "backups", "persistentVolumeClaim": map[string]any{"claimName": "mysql-backup"}}, cj.Get(podSpec+"volumes.0"))
	assert.Equal(t, map[string]any{"name": "tmp", "emptyDir": map[string]any{"medium": "Memory", "sizeLimit": "1Mi"}}, cj.Get(podSpec+"volumes.1"),
		"the client's password file stays in memory")

	pvc := g.Find(harness.TypePVC, "db-backup")
	require.NotNil(t, pvc)
	assert.Equal(t, "10Gi", pvc.Get("spec.resources.requests.storage"))
	assert.Nil(t, pvc.Get("spec.storageClassName"))
	assert.True(t, pvc.Protect, "protected like the database it backs up")
	assert.Equal(t, "true", pvc.Get("metadata.annotations[pulumi.com/skipAwait]"), "unbound until the first run on a WaitForFirstConsumer class")
	assert.Nil(t, pvc.Get("metadata.labels[app.kubernetes.io/version]"), "an image change does not touch the claim")
	assert.True(t, g.DependsOn(cj, pvc))
	assert.True(t, g.DependsOn(cj, g.Find(harness.TypeSecret, "db-credentials")))

	np := g.Find(harness.TypeNetworkPolicy, "db-backup")
	require.NotNil(t, np)
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "mysql-backup", "app.kubernetes.io/component": "database-backup"}, np.Get("spec.podSelector.matchLabels"))
	assert.Equal(t, []any{}, np.Get("spec.ingress"), "nothing connects to a backup pod")
	assert.Equal(t, []any{map[string]any{
		"to":    []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "mysql", "app.kubernetes.io/component": "database"}}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": 3306.0}},
	}}, np.Get("spec.egress"), "it calls MySQL and nothing else")
}

func TestBackupSettingsAreApplied(t *testing.T) {
	a := minimal()
	a.Protect = boolp(false)
	a.Backup = mysql.BackupArgs{Schedule: "30 1 * * *", Keep: 7, StorageSize: "50Gi", StorageClass: "standard-rwo"}
	g, _ := run(t, a)
	cj := g.Find(harness.TypeCronJob, "db-backup")
	assert.Equal(t, "30 1 * * *", cj.Get("spec.schedule"))
	assert.Equal(t, "7", harness.Env(t, cj, podSpec+"containers.0")["BACKUP_KEEP"])
	pvc := g.Find(harness.TypePVC, "db-backup")
	assert.Equal(t, "50Gi", pvc.Get("spec.resources.requests.storage"))
	assert.Equal(t, "standard-rwo", pvc.Get("spec.storageClassName"))
	assert.False(t, pvc.Protect)
}

func TestBackupToABucketThroughWorkloadIdentity(t *testing.T) {
	a := minimal()
	a.Backup = mysql.BackupArgs{Bucket: pulumi.String("apim-mysql-backups-1a2b"), GoogleServiceAccount: pulumi.String("apim-backup@p.iam.gserviceaccount.com")}
	g, _ := run(t, a)
	assert.Nil(t, g.Find(harness.TypePVC, "db-backup"), "no claim: the bucket holds the dumps")
	sa := g.Find(harness.TypeServiceAccount, "db-backup")
	require.NotNil(t, sa)
	assert.Equal(t, "mysql-backup", sa.Get("metadata.name"))
	assert.Equal(t, "apim-backup@p.iam.gserviceaccount.com", sa.Get("metadata.annotations[iam.gke.io/gcp-service-account]"))
	cj := g.Find(harness.TypeCronJob, "db-backup")
	assert.Equal(t, "mysql-backup", cj.Get(podSpec+"serviceAccountName"))
	assert.Equal(t, true, cj.Get(podSpec+"automountServiceAccountToken"))
	assert.Equal(t, "apim-mysql-backups-1a2b", harness.Env(t, cj, podSpec+"containers.0")["BACKUP_BUCKET"])
	assert.Equal(t, map[string]any{"name": "backups", "emptyDir": map[string]any{"sizeLimit": "10Gi"}}, cj.Get(podSpec+"volumes.0"), "scratch space before the upload")
	assert.Equal(t, "10Gi", cj.Get(podSpec+"containers.0.resources.limits.ephemeral-storage"), "room for the scratch dump")
	np := g.Find(harness.TypeNetworkPolicy, "db-backup")
	egress, _ := np.Get("spec.egress").([]any)
	require.Len(t, egress, 4)
	assert.Equal(t, map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "169.254.169.254/32"}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": 80.0}}}, egress[1], "Workload Identity's tokens")
	assert.Equal(t, map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "169.254.169.252/32"}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": 988.0}}}, egress[2])
	assert.Equal(t, map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "0.0.0.0/0"}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": 443.0}}}, egress[3], "Cloud Storage")
}

func TestBackupCanBeTurnedOff(t *testing.T) {
	a := minimal()
	a.Backup.Enabled = boolp(false)
	g, _ := run(t, a)
	assert.Nil(t, g.Find(harness.TypeCronJob, "db-backup"))
	assert.Nil(t, g.Find(harness.TypePVC, "db-backup"))
	assert.Nil(t, g.Find(harness.TypeNetworkPolicy, "db-backup"))
	assert.Equal(t, []any{}, g.Find(harness.TypeNetworkPolicy, "db").Get("spec.ingress"))
}

func TestBackupNeedsBothBucketAndAccount(t *testing.T) {
	a := minimal()
	a.Backup.Bucket = pulumi.String("b")
	err := harness.Refused(t, mysql.NewMySQL, "db", a)
	assert.EqualError(t, err, `mysql "db": args: Backup.Bucket and Backup.GoogleServiceAccount go together`)
}

func TestBackupValidate(t *testing.T) {
	cases := []harness.Validation[mysql.BackupArgs]{
		{"defaults", mysql.BackupArgs{}, ""},
		{"daily", mysql.BackupArgs{Schedule: "15 3 * * *"}, ""},
		{"lists and steps", mysql.BackupArgs{Schedule: "0,30 */2 1-15 * 1-5"}, ""},
		{"shorthand", mysql.BackupArgs{Schedule: "@daily"}, ""},
		{"four fields", mysql.BackupArgs{Schedule: "0 */6 * *"},
			`mysql.backup.schedule: "0 */6 * *" is not valid; want a five-field cron expression in UTC such as "0 */6 * * *"`},
		{"words", mysql.BackupArgs{Schedule: "every 6 hours"},
			`mysql.backup.schedule: "every 6 hours" is not valid; want a five-field cron expression in UTC such as "0 */6 * * *"`},
		{"keep negative", mysql.BackupArgs{Keep: -1}, "mysql.backup.keep: -1 is not valid; want 1 to 1000"},
		{"keep too many", mysql.BackupArgs{Keep: 1001}, "mysql.backup.keep: 1001 is not valid; want 1 to 1000"},
		{"storage size", mysql.BackupArgs{StorageSize: "ten gigs"}, `mysql.backup.storageSize: "ten gigs" is not valid; want a size such as 10Gi`},
		{"off: nothing checked", mysql.BackupArgs{Enabled: boolp(false), Schedule: "never"}, ""},
	}
	harness.ExpectProblems(t, func(b mysql.BackupArgs) []string { return b.WithDefaults().Validate("mysql.backup") }, cases)
}

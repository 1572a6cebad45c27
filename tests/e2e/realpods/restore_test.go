//go:build realpods

package realpods

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
)

// The restore drill on real pods: the product's backup CronJob dumps the in-cluster database
// (MariaDB here) to its claim, a failure drops a database, and tools/restore-mysql.sh restores
// the newest dump; the drill checks table by table what came back and what was lost.
const (
	mysqlName     = "mysql"
	backupCronJob = "mysql-backup"
	// drillTable is written by the drill in apim_db, beside the schema's tables.
	drillTable = "apim_db.restore_drill"
	// restoreBound is the longest restore (RTO) the drill accepts for its small dump: the
	// tool's own work is a gzip check, a drop and a load of a few kilobytes.
	restoreBound = 60 * time.Second
)

// drillDB runs SQL on the in-cluster server as root, over the network, with this machine's
// mysql client (Debian's mariadb-client).
type drillDB struct {
	host, password string
}

func (d drillDB) sql(t *testing.T, query string) string {
	t.Helper()
	cmd := exec.Command("mysql", "--protocol=TCP", "-h", d.host, "-P", "3306", "-u", "root", "-N", "-B", "-e", query)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+d.password)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "mysql -e %q: %s", query, out)
	return strings.TrimSpace(string(out))
}

// tables maps every table of API Manager's two databases to its row count.
func (d drillDB) tables(t *testing.T) map[string]int {
	t.Helper()
	out := d.sql(t, "SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables "+
		"WHERE table_schema IN ('apim_db', 'shared_db') ORDER BY 1")
	counts := map[string]int{}
	for _, name := range strings.Fields(out) {
		n, err := strconv.Atoi(d.sql(t, "SELECT COUNT(*) FROM "+name))
		require.NoError(t, err)
		counts[name] = n
	}
	return counts
}

// rootPassword reads the server's root password the way its pod gets it: from the Secret its
// StatefulSet names in MYSQL_ROOT_PASSWORD.
func rootPassword(t *testing.T, k *kubeclient.Client) string {
	t.Helper()
	var sts kubeclient.Object
	_, err := k.Get("/apis/apps/v1/namespaces/"+ns+"/statefulsets/"+mysqlName, &sts)
	require.NoError(t, err)
	for _, c := range sts.Items("spec", "template", "spec", "containers") {
		for _, env := range c.Items("env") {
			if env.Str("name") != "MYSQL_ROOT_PASSWORD" {
				continue
			}
			name, key := env.Str("valueFrom", "secretKeyRef", "name"), env.Str("valueFrom", "secretKeyRef", "key")
			var secret kubeclient.Object
			_, err := k.Get("/api/v1/namespaces/"+ns+"/secrets/"+name, &secret)
			require.NoError(t, err)
			b, err := base64.StdEncoding.DecodeString(secret.Str("data", key))
			require.NoError(t, err)
			return string(b)
		}
	}
	t.Fatal("the MySQL StatefulSet has no MYSQL_ROOT_PASSWORD from a Secret")
	return ""
}

// runBackup starts a Job from the backup CronJob's template, as `kubectl create job --from`
// does, and waits for it to succeed.
func runBackup(t *testing.T, k *kubeclient.Client, name string) {
	t.Helper()
	var cj kubeclient.Object
	_, err := k.Get("/apis/batch/v1/namespaces/"+ns+"/cronjobs/"+backupCronJob, &cj)
	require.NoError(t, err)
	require.NoError(t, k.Create("/apis/batch/v1/namespaces/"+ns+"/jobs", map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": name, "namespace": ns,
			"annotations": map[string]any{"cronjob.kubernetes.io/instantiate": "manual"}},
		"spec": cj.Path("spec", "jobTemplate", "spec"),
	}))
	var job kubeclient.Object
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, kubeclient.WaitFor(ctx, kubeclient.ListWatch(k.Clientset.BatchV1().RESTClient(), "jobs", ns, "", "metadata.name="+name),
		func(objs []kubeclient.Object) bool {
			if len(objs) != 1 {
				return false
			}
			job = objs[0]
			return job.Num("status", "succeeded") >= 1 || job.Num("status", "failed") > 0
		}), "the backup Job %s did not finish", name)
	require.EqualValues(t, 1, job.Num("status", "succeeded"), "the backup Job %s failed", name)
}

// restoreDrill writes rows, takes a backup with the product's CronJob, writes more, drops
// apim_db, restores the newest dump with tools/restore-mysql.sh and checks the result: every
// table as it was at the backup, the rows written after it lost (the recovery point).
func restoreDrill(t *testing.T, e env, k *kubeclient.Client, root string) map[string]any {
	// The server's Service is headless: its one pod's address, routed to from here as to any pod.
	var pod kubeclient.Object
	_, err := k.Get("/api/v1/namespaces/"+ns+"/pods/"+mysqlName+"-0", &pod)
	require.NoError(t, err)
	require.NotEmpty(t, pod.Str("status", "podIP"), "mysql-0 has no address")
	db := drillDB{host: pod.Str("status", "podIP"), password: rootPassword(t, k)}
	db.sql(t, "CREATE TABLE "+drillTable+" (id INT PRIMARY KEY, phase VARCHAR(32) NOT NULL)")
	db.sql(t, "INSERT INTO "+drillTable+" VALUES (1, 'before-backup'), (2, 'before-backup'), (3, 'before-backup')")
	atBackup := db.tables(t)

	backupStart := time.Now()
	runBackup(t, k, "restore-drill-backup")
	backupTook := time.Since(backupStart)
	var dumps []string
	dir := filepath.Join(e.work, "volumes", "realpods-mysql-backup")
	dumps, err = filepath.Glob(filepath.Join(dir, "*.sql.gz"))
	require.NoError(t, err)
	require.NotEmpty(t, dumps, "the backup Job wrote no dump to its claim (%s)", dir)
	sort.Strings(dumps)
	dump := dumps[len(dumps)-1]

	// Work after the backup, then the failure: an operator's DROP.
	db.sql(t, "INSERT INTO "+drillTable+" VALUES (4, 'after-backup')")
	require.Equal(t, "4", db.sql(t, "SELECT COUNT(*) FROM "+drillTable))
	db.sql(t, "DROP DATABASE apim_db")
	failedAt := time.Now()
	rpo := failedAt.Sub(backupStart)

	restoreStart := time.Now()
	cmd := exec.Command(filepath.Join(root, "tools", "restore-mysql.sh"), "--host", db.host, "--user", "root", "--yes", dump)
	cmd.Env = append(os.Environ(), "MYSQL_PASSWORD="+db.password)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "tools/restore-mysql.sh: %s", out)
	restored := db.tables(t)
	rto := time.Since(restoreStart)
	fmt.Print(string(out))

	assert.Equal(t, atBackup, restored, "every table of apim_db and shared_db as it was at the backup")
	assert.Equal(t, "before-backup before-backup before-backup",
		strings.Join(strings.Fields(db.sql(t, "SELECT phase FROM "+drillTable+" ORDER BY id")), " "),
		"the rows written before the backup are back; the one written after it is lost (the recovery point)")
	assert.Less(t, rto, restoreBound, "restore and check took longer than %s", restoreBound)
	info, err := os.Stat(dump)
	require.NoError(t, err)
	fmt.Printf("REAL-PODS RESTORE DRILL: RPO %.1f s (the backup Job started %.1f s before the failure; it took %.1f s), "+
		"RTO %.1f s (tools/restore-mysql.sh and every table checked: %d tables); dump %s, %d bytes\n",
		rpo.Seconds(), rpo.Seconds(), backupTook.Seconds(), rto.Seconds(), len(restored), filepath.Base(dump), info.Size())
	return map[string]any{"rpo_seconds": rpo.Seconds(), "rto_seconds": rto.Seconds(), "backup_seconds": backupTook.Seconds(),
		"tables": len(restored), "dump_bytes": info.Size()}
}

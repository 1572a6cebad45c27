package tests

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// What the backup writes, in the shape mysqldump gives it with --databases.
const sampleDump = "-- MySQL dump 10.13\n--\n-- Current Database: `apim_db`\n--\n" +
	"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `apim_db` /*!40100 DEFAULT CHARACTER SET latin1 */;\nUSE `apim_db`;\n" +
	"CREATE TABLE `AM_API` (`ID` int);\nINSERT INTO `AM_API` VALUES (1);\n" +
	"--\n-- Current Database: `shared_db`\n--\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `shared_db`;\nUSE `shared_db`;\n" +
	"CREATE TABLE `UM_TENANT` (`ID` int);\n" +
	"-- Dump completed on 2026-12-05 10:00:00\n"

// recorder is a stub for mysql, kubectl and gcloud: it appends its arguments to $STUB/<name>.calls
// and its stdin to $STUB/<name>.stdin, and answers what the restore asks of each.
const recorder = `#!/bin/bash
name=$(basename "$0")
printf '%s\n' "$*" >>"$STUB/$name.calls"
case "$name $*" in
  *" -N -B -e "*) echo 7 ;;
  "mysql "*|"kubectl "*" exec -i "*) cat >>"$STUB/$name.stdin" ;;
  "kubectl "*" apply "*) cat >"$STUB/manifest.yaml" ;;
  "kubectl "*" exec "*" ls "*) printf 'mysql-20261201T000000Z.sql.gz\nmysql-20261202T000000Z.sql.gz\nlost+found\n' ;;
  "kubectl "*" exec "*" cat "*) cat "$STUB/dump" ;;
  "gcloud storage cat "*) cat "$STUB/dump" ;;
  "gcloud storage ls "*) printf 'gs://b/mysql-20261202T000000Z.sql.gz\ngs://b/mysql-20261201T000000Z.sql.gz\ngs://b/notes.txt\n' ;;
esac
`

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

type toolRun struct {
	out, stub string
	err       error
}

func (r toolRun) file(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.stub, name))
	return string(b)
}

// restoreTool runs tools/restore-mysql.sh with the stubs for mysql, kubectl and gcloud.
func restoreTool(t *testing.T, stdin string, env map[string]string, args ...string) toolRun {
	t.Helper()
	bash := need(t, "bash", "bash")
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	stub := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(stub, "dump"), gz(t, sampleDump), 0o644))
	bin := stubPath(t, map[string]string{"mysql": recorder, "kubectl": recorder, "gcloud": recorder},
		"bash", "cat", "gzip", "sed", "sort", "tr", "tail", "grep", "basename", "find", "mktemp", "rm", "date", "printf", "dirname")
	cmd := exec.Command(bash, append([]string{filepath.Join(root, "tools/restore-mysql.sh")}, args...)...)
	cmd.Env = []string{"PATH=" + bin, "STUB=" + stub, "TMPDIR=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return toolRun{string(out), stub, err}
}

func dumpFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, content, 0o600))
	return p
}

func TestRestoreToolLoadsACompleteDump(t *testing.T) {
	dump := dumpFile(t, "mysql-20261205T100000Z.sql.gz", gz(t, sampleDump))
	r := restoreTool(t, "", map[string]string{"MYSQL_PASSWORD": "root-DO-NOT-USE"}, "--host", "127.0.0.1", "--port", "13306", "--yes", dump)
	require.NoError(t, r.err, r.out)
	assert.Equal(t, "DROP DATABASE IF EXISTS `apim_db`;\nDROP DATABASE IF EXISTS `shared_db`;\n"+sampleDump, r.file("mysql.stdin"),
		"the databases the dump holds are dropped, then loaded from it")
	calls := strings.Split(strings.TrimSpace(r.file("mysql.calls")), "\n")
	require.Len(t, calls, 3, "the load, then one count per database")
	assert.Regexp(t, `^--defaults-extra-file=\S+ --protocol=TCP -h 127.0.0.1 -P 13306 -u root$`, calls[0])
	assert.NotContains(t, r.file("mysql.calls"), "root-DO-NOT-USE", "the password never reaches the command line")
	assert.Contains(t, calls[1], "table_schema='apim_db'")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	assert.Equal(t, "restore: "+dump+" (taken 20261205T100000Z) holds apim_db shared_db", lines[0])
	assert.Equal(t, "restore: apim_db has 7 tables", lines[1])
	assert.Equal(t, "restore: shared_db has 7 tables", lines[2])
	assert.Regexp(t, `^restore: restored apim_db shared_db on 127.0.0.1:13306 from `+dump+` in [0-9]+ s$`, lines[3])
}

func TestRestoreToolRefusesBadDumpsAndChangesNothing(t *testing.T) {
	env := map[string]string{"MYSQL_PASSWORD": "pw"}
	whole := gz(t, sampleDump)
	cases := map[string]struct {
		content []byte
		want    string
	}{
		"truncated":        {whole[:len(whole)/2], "is not a valid gzip file: refusing it; nothing was changed"},
		"without trailer":  {gz(t, strings.TrimSuffix(sampleDump, "-- Dump completed on 2026-12-05 10:00:00\n")), "is not a complete dump (no '-- Dump completed' trailer): refusing it; nothing was changed"},
		"without database": {gz(t, "INSERT INTO t VALUES (1);\n-- Dump completed on 2026-12-05\n"), "names no database (the backup dumps with --databases): refusing it"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dump := dumpFile(t, "mysql-20261205T100000Z.sql.gz", c.content)
			r := restoreTool(t, "", env, "--host", "db", "--yes", dump)
			require.Error(t, r.err)
			assert.Equal(t, "restore: "+dump+" "+c.want+"\n", r.out)
			assert.Empty(t, r.file("mysql.calls"), "the server was not touched")
		})
	}
	dump := dumpFile(t, "mysql-20261205T100000Z.sql.gz", whole)
	r := restoreTool(t, "no\n", env, "--host", "db", dump)
	require.Error(t, r.err)
	assert.Contains(t, r.out, `restore: this drops apim_db shared_db on db:3306 and loads them from the dump. Type "restore" to go on: `)
	assert.Contains(t, r.out, "restore: not confirmed; nothing was changed")
	assert.Empty(t, r.file("mysql.calls"))
	r = restoreTool(t, "restore\n", env, "--host", "db", dump)
	require.NoError(t, r.err, r.out)
	assert.NotEmpty(t, r.file("mysql.stdin"))

	r = restoreTool(t, "", nil, "--host", "db", "--yes", dump)
	require.Error(t, r.err)
	assert.Equal(t, "restore: set MYSQL_PASSWORD to the password of root\n", r.out)
	r = restoreTool(t, "", nil, "--yes", dump)
	require.Error(t, r.err)
	assert.Equal(t, "restore: say where to restore: --namespace NS (the in-cluster server) or --host HOST\n", r.out)
}

func TestRestoreToolReadsTheBucketAndTheClaimAndRestoresInTheCluster(t *testing.T) {
	r := restoreTool(t, "", nil, "--list", "gs://b")
	require.NoError(t, r.err, r.out)
	assert.Equal(t, "mysql-20261201T000000Z.sql.gz\nmysql-20261202T000000Z.sql.gz\n", r.out)

	r = restoreTool(t, "", nil, "--namespace", "wso2-apim", "--yes", "gs://b/mysql-20261202T000000Z.sql.gz")
	require.NoError(t, r.err, r.out)
	assert.Equal(t, "storage cat gs://b/mysql-20261202T000000Z.sql.gz\n", r.file("gcloud.calls"))
	kc := strings.Split(strings.TrimSpace(r.file("kubectl.calls")), "\n")
	assert.Equal(t, `-n wso2-apim exec -i mysql-0 -c mysql -- sh -c MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mysql -uroot "$@" mysql`, kc[0],
		"the server's own client, with the root password it already has")
	assert.Equal(t, "DROP DATABASE IF EXISTS `apim_db`;\nDROP DATABASE IF EXISTS `shared_db`;\n"+sampleDump, r.file("kubectl.stdin"))
	assert.Contains(t, r.out, "restore: restored apim_db shared_db on wso2-apim/mysql-0 from gs://b/mysql-20261202T000000Z.sql.gz in")

	r = restoreTool(t, "", nil, "--list", "pvc:wso2-apim/mysql-backup")
	require.NoError(t, r.err, r.out)
	assert.Equal(t, "mysql-20261201T000000Z.sql.gz\nmysql-20261202T000000Z.sql.gz\n", r.out)
	manifest := r.file("manifest.yaml")
	assert.Contains(t, manifest, "claimName: mysql-backup, readOnly: true")
	assert.Contains(t, manifest, "runAsNonRoot: true")
	assert.Contains(t, manifest, "capabilities: {drop: [ALL]}")
	kc = strings.Split(strings.TrimSpace(r.file("kubectl.calls")), "\n")
	assert.Regexp(t, `^-n wso2-apim delete pod mysql-restore-reader-[0-9]+ --wait=false$`, kc[len(kc)-1], "the reader pod is removed")

	r = restoreTool(t, "", nil, "--namespace", "wso2-apim", "--pod", "mysql-0", "--yes", "pvc:wso2-apim/mysql-backup/mysql-20261202T000000Z.sql.gz")
	require.NoError(t, r.err, r.out)
	assert.Contains(t, r.file("kubectl.calls"), "exec mysql-restore-reader-")
	assert.Contains(t, r.file("kubectl.calls"), "-- cat /backups/mysql-20261202T000000Z.sql.gz")
	assert.Equal(t, "DROP DATABASE IF EXISTS `apim_db`;\nDROP DATABASE IF EXISTS `shared_db`;\n"+sampleDump, r.file("kubectl.stdin"))
}

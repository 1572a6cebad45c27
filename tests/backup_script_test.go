package tests

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/mysql"
)

const typeCronJob = "kubernetes:batch/v1:CronJob"

// The official MySQL image's entrypoint runs an executable *.sh of /docker-entrypoint-initdb.d
// and sources one that is not, under bash's `set -e`; afterwards it reads variables that may
// be unset (MYSQL_ONETIME_PASSWORD). entrypointStep does just that much, so that a script
// that leaks `set -u` into the entrypoint aborts it here as it does there.
const entrypointStep = `set -eo pipefail
f="$1"
if [ -x "$f" ]; then "$f"; else . "$f"; fi
if [ -n "$MYSQL_ONETIME_PASSWORD" ]; then echo "expire root"; fi
echo "entrypoint: init done"
`

// stubInitMySQL records what each mysql call gets on stdin.
const stubInitMySQL = `#!/bin/sh
n=$(cat "$STUB/calls" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$STUB/calls"
printf '%s\n' "$@" >"$STUB/args.$n"
cat >"$STUB/stdin.$n"
`

func TestMySQLInitScriptRunsAndIsSafeToSource(t *testing.T) {
	bash := need(t, "bash", "bash")
	g := run(t, "local", nil)
	cm := g.Find(typeConfigMap, "apim-mysql-initdb")
	require.NotNil(t, cm)
	script := cm.String("data[01-apim-databases.sh]")
	sts := g.Find(typeStatefulSet, "apim-mysql")
	// Kubernetes mounts ConfigMap files 0644 unless the volume says otherwise.
	mode := 0o644
	if m, ok := sts.Get("spec.template.spec.volumes.0.configMap.defaultMode").(float64); ok {
		mode = int(m)
	}

	for _, c := range []struct {
		name string
		mode os.FileMode
	}{
		{"mounted as the StatefulSet mounts it", os.FileMode(mode)},
		{"sourced, had the mode been lost", 0o644},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, stub, schemas := t.TempDir(), t.TempDir(), t.TempDir()
			f := filepath.Join(dir, "01-apim-databases.sh")
			require.NoError(t, os.WriteFile(f, []byte(script), c.mode))
			require.NoError(t, os.Chmod(f, c.mode))
			require.NoError(t, os.WriteFile(filepath.Join(schemas, "apimgt-mysql.sql"), []byte("CREATE TABLE AM_API (ID INT);\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(schemas, "shared-mysql.sql"), []byte("CREATE TABLE UM_TENANT (ID INT);\n"), 0o644))
			bin := stubPath(t, map[string]string{"mysql": stubInitMySQL}, "sh", "cat", "printf")
			// The init script reads the scripts from /schemas; here they are elsewhere.
			text := strings.ReplaceAll(script, "/schemas/", schemas+"/")
			require.NoError(t, os.WriteFile(f, []byte(text), c.mode))
			cmd := exec.Command(bash, "-c", entrypointStep, "entrypoint", f)
			cmd.Env = []string{"PATH=" + bin, "STUB=" + stub, "MYSQL_ROOT_PASSWORD=root-DO-NOT-USE", "MYSQL_USER=apimadmin"}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "entrypoint: init done", "the entrypoint carries on after the script")
			calls, err := os.ReadFile(filepath.Join(stub, "calls"))
			require.NoError(t, err)
			assert.Equal(t, "3\n", string(calls), "create the databases, then load each schema")
			first, _ := os.ReadFile(filepath.Join(stub, "stdin.1"))
			assert.Contains(t, string(first), "CREATE DATABASE IF NOT EXISTS apim_db CHARACTER SET latin1;")
			assert.Contains(t, string(first), "GRANT ALL PRIVILEGES ON shared_db.* TO 'apimadmin'@'%';")
			second, _ := os.ReadFile(filepath.Join(stub, "stdin.2"))
			assert.Equal(t, "CREATE TABLE AM_API (ID INT);\n", string(second))
			args, _ := os.ReadFile(filepath.Join(stub, "args.3"))
			assert.Contains(t, string(args), "shared_db")
		})
	}
	assert.Equal(t, 0o555, mode, "executable, so the entrypoint runs it rather than sourcing it")
}

// stubMySQLDump writes a small dump the way mysqldump does (with its completion trailer) unless
// $STUB/fail exists, and records its arguments and the defaults file it was given.
const stubMySQLDump = `#!/bin/sh
printf '%s\n' "$@" >"$STUB/dump-args"
for a in "$@"; do
  case "$a" in --defaults-extra-file=*) cat "${a#*=}" >"$STUB/dump-cnf" ;; esac
done
echo "-- MySQL dump 10.13"
echo 'CREATE DATABASE /*!32312 IF NOT EXISTS*/ ` + "`apim_db`" + `;'
echo "INSERT INTO t VALUES (1);"
if [ -e "$STUB/fail" ]; then
  echo "mysqldump: Got error: 2013: Lost connection to server during query" >&2
  exit 2
fi
echo "-- Dump completed on 2026-12-05 10:00:00"
`

type backupRun struct {
	out  string
	err  error
	stub string
}

var dumpName = regexp.MustCompile(`^mysql-[0-9]{8}T[0-9]{6}Z\.sql\.gz$`)

func runBackup(t *testing.T, dir string, fail bool, env map[string]string) backupRun {
	t.Helper()
	dash := need(t, "dash", "dash")
	stub, tmp := t.TempDir(), t.TempDir()
	if fail {
		require.NoError(t, os.WriteFile(filepath.Join(stub, "fail"), nil, 0o644))
	}
	bin := stubPath(t, map[string]string{"mysqldump": stubMySQLDump},
		"sh", "cat", "date", "mktemp", "rm", "gzip", "tail", "grep", "wc", "tr", "mv", "basename", "sort", "head", "sed", "curl", "printf")
	cmd := exec.Command(dash, "-c", mysql.BackupScript)
	cmd.Env = []string{"PATH=" + bin, "STUB=" + stub, "TMPDIR=" + tmp,
		"MYSQL_HOST=mysql", "MYSQL_PORT=3306", "MYSQL_USER=root", "MYSQL_PASSWORD=root-DO-NOT-USE",
		"BACKUP_DATABASES=apim_db shared_db", "BACKUP_DIR=" + dir, "BACKUP_KEEP=3", "BACKUP_PREFIX=mysql"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	left, _ := os.ReadDir(tmp)
	assert.Empty(t, left, "the client's password file is removed")
	return backupRun{string(out), err, stub}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(z)
	require.NoError(t, err)
	return string(b)
}

func TestBackupScriptWritesACompleteDumpAndKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	old := []string{"mysql-20261101T000000Z.sql.gz", "mysql-20261102T000000Z.sql.gz", "mysql-20261103T000000Z.sql.gz", "mysql-20261104T000000Z.sql.gz"}
	for _, n := range append(old, "notes.txt", "other-20261101T000000Z.sql.gz") {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600))
	}
	r := runBackup(t, dir, false, nil)
	require.NoError(t, r.err, r.out)
	left := names(t, dir)
	var dumps []string
	for _, n := range left {
		if dumpName.MatchString(n) {
			dumps = append(dumps, n)
		}
	}
	require.Len(t, dumps, 3, "BACKUP_KEEP newest: %v", left)
	assert.Equal(t, old[2:], dumps[:2], "the two newest old dumps stay, the oldest go")
	fresh := dumps[2]
	assert.Contains(t, left, "notes.txt", "only the backup's own files are pruned")
	assert.Contains(t, left, "other-20261101T000000Z.sql.gz")
	assert.NotContains(t, strings.Join(left, " "), ".part")
	assert.Equal(t, "-- MySQL dump 10.13\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `apim_db`;\nINSERT INTO t VALUES (1);\n-- Dump completed on 2026-12-05 10:00:00\n",
		gunzip(t, filepath.Join(dir, fresh)))
	info, err := os.Stat(filepath.Join(dir, fresh))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "dumps are readable by the backup's user only")

	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	require.Len(t, lines, 4, r.out)
	assert.Equal(t, "backup: dumping apim_db shared_db from mysql:3306", lines[0])
	assert.Regexp(t, `^backup: wrote `+regexp.QuoteMeta(dir)+`/`+fresh+` \([0-9]+ bytes compressed\) in [0-9]+ s$`, lines[1])
	assert.Equal(t, "backup: deleted mysql-20261101T000000Z.sql.gz (keeping the newest 3)", lines[2])
	assert.Equal(t, "backup: deleted mysql-20261102T000000Z.sql.gz (keeping the newest 3)", lines[3])

	args, _ := os.ReadFile(filepath.Join(r.stub, "dump-args"))
	for _, want := range []string{"--single-transaction", "--routines", "--triggers", "--events", "--hex-blob", "--no-tablespaces",
		"--databases\napim_db\nshared_db\n", "-h\nmysql\n", "-u\nroot\n"} {
		assert.Contains(t, string(args), want)
	}
	assert.NotContains(t, string(args), "root-DO-NOT-USE", "the password never reaches the command line")
	cnf, _ := os.ReadFile(filepath.Join(r.stub, "dump-cnf"))
	assert.Equal(t, "[client]\npassword=\"root-DO-NOT-USE\"\n", string(cnf))
}

func TestBackupScriptRefusesAnIncompleteDump(t *testing.T) {
	dir := t.TempDir()
	old := []string{"mysql-20261101T000000Z.sql.gz", "mysql-20261102T000000Z.sql.gz", "mysql-20261103T000000Z.sql.gz", "mysql-20261104T000000Z.sql.gz"}
	for _, n := range old {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600))
	}
	r := runBackup(t, dir, true, nil)
	require.Error(t, r.err)
	assert.Contains(t, r.out, "mysqldump: Got error: 2013: Lost connection to server during query")
	assert.Contains(t, r.out, "backup: the dump of apim_db shared_db is incomplete (no '-- Dump completed' trailer); keeping the older dumps")
	assert.Equal(t, old, names(t, dir), "no new dump, no partial file, nothing pruned")
}

// fakeGCS serves what the backup calls of Cloud Storage's JSON API and of the metadata server.
type fakeGCS struct {
	mu      sync.Mutex
	objects map[string][]byte
	calls   []string
}

func (f *fakeGCS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if r.URL.Path == "/computeMetadata/v1/instance/service-accounts/default/token" {
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "missing Metadata-Flavor", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, `{"access_token":"ya29.fake-token","expires_in":3599,"token_type":"Bearer"}`)
		return
	}
	if r.Header.Get("Authorization") != "Bearer ya29.fake-token" {
		http.Error(w, "unauthenticated", http.StatusUnauthorized)
		return
	}
	const bucket = "/b/apim-backups/o"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/upload/storage/v1"+bucket && r.URL.Query().Get("uploadType") == "media":
		body, _ := io.ReadAll(r.Body)
		f.objects[r.URL.Query().Get("name")] = body
		fmt.Fprint(w, `{"kind":"storage#object"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/storage/v1"+bucket:
		var items []string
		for name := range f.objects {
			if strings.HasPrefix(name, r.URL.Query().Get("prefix")) {
				items = append(items, fmt.Sprintf(`{"name": %q}`, name))
			}
		}
		sort.Strings(items)
		fmt.Fprintf(w, `{"kind": "storage#objects", "items": [%s]}`, strings.Join(items, ", "))
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/storage/v1"+bucket+"/"):
		delete(f.objects, strings.TrimPrefix(r.URL.Path, "/storage/v1"+bucket+"/"))
	default:
		http.NotFound(w, r)
	}
}

func TestBackupScriptUploadsToTheBucketAndPrunesThere(t *testing.T) {
	before := map[string][]byte{
		"mysql-20261101T000000Z.sql.gz": []byte("a"), "mysql-20261102T000000Z.sql.gz": []byte("b"),
		"mysql-20261103T000000Z.sql.gz": []byte("c"), "mysql-20261104T000000Z.sql.gz": []byte("d"),
		"elsewhere/keep.txt": []byte("e"),
	}
	gcs := &fakeGCS{objects: map[string][]byte{}}
	for k, v := range before {
		gcs.objects[k] = v
	}
	srv := httptest.NewServer(gcs)
	defer srv.Close()
	dir := t.TempDir()
	r := runBackup(t, dir, false, map[string]string{"BACKUP_BUCKET": "apim-backups", "GCS_ENDPOINT": srv.URL, "METADATA_ENDPOINT": srv.URL})
	require.NoError(t, r.err, r.out)
	assert.Empty(t, names(t, dir), "the scratch copy is removed after the upload")
	var objects []string
	var fresh string
	for name := range gcs.objects {
		objects = append(objects, name)
		if _, old := before[name]; !old && dumpName.MatchString(name) {
			fresh = name
		}
	}
	sort.Strings(objects)
	require.NotEmpty(t, fresh, "the new dump was uploaded: %v", objects)
	assert.Equal(t, []string{"elsewhere/keep.txt", "mysql-20261103T000000Z.sql.gz", "mysql-20261104T000000Z.sql.gz", fresh}, objects)
	assert.Contains(t, r.out, "backup: wrote gs://apim-backups/"+fresh)
	assert.Contains(t, r.out, "backup: deleted mysql-20261101T000000Z.sql.gz (keeping the newest 3)")
	z, err := gzip.NewReader(strings.NewReader(string(gcs.objects[fresh])))
	require.NoError(t, err)
	body, _ := io.ReadAll(z)
	assert.Contains(t, string(body), "-- Dump completed on", "the uploaded object is the whole dump")
}

func TestBackupScriptStopsWithoutAWorkloadIdentityToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) }))
	defer srv.Close()
	r := runBackup(t, t.TempDir(), false, map[string]string{"BACKUP_BUCKET": "apim-backups", "GCS_ENDPOINT": srv.URL, "METADATA_ENDPOINT": srv.URL})
	require.Error(t, r.err)
	assert.Contains(t, r.out, "backup: no access token from the metadata server (Workload Identity)")
}

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
)

// stubMySQL is a mysql client stand-in for scripts under test: each call takes the next line
// of $STUB/plan ("out:<stdout>" or "fail:<stderr>"), and records its arguments and the files
// its options name (the defaults file, the CA) as they were when it ran.
const stubMySQL = `#!/bin/sh
n=$(cat "$STUB/calls" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$STUB/calls"
printf '%s\n' "$@" >"$STUB/args.$n"
for a in "$@"; do
  case "$a" in
    --defaults-extra-file=*) cat "${a#*=}" >"$STUB/cnf.$n" ;;
    --ssl-ca=*) cat "${a#*=}" >"$STUB/ca.$n" ;;
  esac
done
line=$(sed -n "${n}p" "$STUB/plan")
[ -n "$line" ] || line=$(tail -n 1 "$STUB/plan")
case "$line" in
  out:*) printf '%s\n' "${line#out:}" ;;
  fail:*) printf 'mysql: [Warning] a warning the script must skip\n%s\n' "${line#fail:}" >&2; exit 1 ;;
esac
`

// A clock that moves only when the script sleeps, so that waits take no real time.
const (
	stubDate  = "#!/bin/sh\ncat \"$STUB/clock\"\n"
	stubSleep = "#!/bin/sh\necho $(( $(cat \"$STUB/clock\") + $1 )) >\"$STUB/clock\"\n"
)

type stubRun struct {
	out  string
	err  error
	stub string
}

func (r stubRun) file(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.stub, name))
	require.NoError(t, err, name)
	return string(b)
}

// stubPath is a PATH of the host's tools plus the stubs; the script runs in dash (Debian's
// POSIX sh, whose built-ins do not shadow the stubs as busybox's applets would).
func stubPath(t *testing.T, stubs map[string]string, tools ...string) string {
	t.Helper()
	bin := t.TempDir()
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		require.NoError(t, err, tool)
		require.NoError(t, os.Symlink(p, filepath.Join(bin, tool)))
	}
	for name, text := range stubs {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte(text), 0o755))
	}
	return bin
}

// runDBWait runs apim.DBWaitScript in a POSIX shell against the stub.
func runDBWait(t *testing.T, plan []string, env map[string]string) stubRun {
	t.Helper()
	dash := need(t, "dash", "dash")
	stub, scratch := t.TempDir(), t.TempDir()
	bin := stubPath(t, map[string]string{"mysql": stubMySQL, "date": stubDate, "sleep": stubSleep}, "sh", "cat", "grep", "tail", "sed", "rm")
	require.NoError(t, os.WriteFile(filepath.Join(stub, "plan"), []byte(strings.Join(plan, "\n")+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(stub, "clock"), []byte("1000\n"), 0o644))
	cmd := exec.Command(dash, "-c", apim.DBWaitScript)
	cmd.Env = []string{"PATH=" + bin, "STUB=" + stub, "DB_WAIT_DIR=" + scratch,
		"DB_HOST=mysql", "DB_PORT=3306", "DB_USER=apimadmin", "DB_PASSWORD=pw-DO-NOT-USE",
		"DB_TABLES=apim_db.AM_API_KEY_APPLICATION_MAPPING shared_db.UM_ORG_HIERARCHY", "DB_WAIT_SECONDS=600"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	left, _ := os.ReadDir(scratch)
	assert.Empty(t, left, "the password file and CA are removed when the check ends")
	return stubRun{out: string(out), err: err, stub: stub}
}

func TestDBWaitScriptWaitsForTheConnectionAndTheSchema(t *testing.T) {
	r := runDBWait(t, []string{
		"fail:ERROR 2005 (HY000): Unknown MySQL server host 'mysql' (-2)",
		"fail:ERROR 1045 (28000): Access denied for user 'apimadmin'@'10.16.0.7' (using password: YES)",
		"out:1",
		"out:2",
	}, nil)
	require.NoError(t, r.err, r.out)
	assert.Equal(t, "wait-for-database: waiting for mysql:3306 as apimadmin (0 s of 600): ERROR 2005 (HY000): Unknown MySQL server host 'mysql' (-2)\n"+
		"wait-for-database: mysql:3306 answers apimadmin over TLS if the server offers it and holds the schema "+
		"(apim_db.AM_API_KEY_APPLICATION_MAPPING shared_db.UM_ORG_HIERARCHY) after 15 s\n", r.out,
		"one line when it starts waiting, one when it is done; the warning is skipped")
	assert.Equal(t, "4\n", r.file(t, "calls"))
	args := r.file(t, "args.4")
	for _, want := range []string{"--protocol=TCP", "-h\nmysql\n", "-P\n3306\n", "-u\napimadmin\n", "-N\n-B\n-e\n"} {
		assert.Contains(t, args, want)
	}
	assert.Contains(t, args, "SELECT COUNT(*) FROM information_schema.tables WHERE (table_schema='apim_db' AND table_name='AM_API_KEY_APPLICATION_MAPPING') OR (table_schema='shared_db' AND table_name='UM_ORG_HIERARCHY')")
	assert.NotContains(t, args, "pw-DO-NOT-USE", "the password never reaches the command line")
	assert.Equal(t, "[client]\npassword=\"pw-DO-NOT-USE\"\n", r.file(t, "cnf.1"))
	assert.NotContains(t, args, "--ssl-mode", "no TLS mode asked for")
}

func TestDBWaitScriptGivesUpWithTheLastReason(t *testing.T) {
	r := runDBWait(t, []string{"out:1"}, map[string]string{"DB_WAIT_SECONDS": "60"})
	require.Error(t, r.err)
	assert.Contains(t, r.out, "wait-for-database: waiting for mysql:3306 as apimadmin (30 s of 60): connected, but 1 of the 2 schema tables "+
		"(apim_db.AM_API_KEY_APPLICATION_MAPPING shared_db.UM_ORG_HIERARCHY) exist: the schema is not loaded yet\n", "a line every 30 s")
	assert.Contains(t, r.out, "wait-for-database: gave up on mysql:3306 after 60 s: connected, but 1 of the 2 schema tables")
	assert.Equal(t, 3, strings.Count(r.out, "\n"), "0 s, 30 s, then the end: %s", r.out)
}

func TestDBWaitScriptChecksTheServersCA(t *testing.T) {
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB-the-server-ca\n-----END CERTIFICATE-----"
	r := runDBWait(t, []string{"out:2"}, map[string]string{"DB_SSL_MODE": "VERIFY_CA", "DB_SERVER_CA": ca})
	require.NoError(t, r.err, r.out)
	args := r.file(t, "args.1")
	assert.Contains(t, args, "--ssl-mode=VERIFY_CA\n")
	assert.Contains(t, args, "--ssl-ca=")
	assert.Equal(t, ca+"\n", r.file(t, "ca.1"))
	assert.Contains(t, r.out, "over TLS, server certificate checked (VERIFY_CA)")

	r = runDBWait(t, []string{"out:2"}, map[string]string{"DB_SSL_MODE": "REQUIRED"})
	require.NoError(t, r.err, r.out)
	assert.Contains(t, r.file(t, "args.1"), "--ssl-mode=REQUIRED\n")
	assert.NotContains(t, r.file(t, "args.1"), "--ssl-ca")

	r = runDBWait(t, []string{"out:2"}, map[string]string{"DB_SSL_MODE": "VERIFY_CA"})
	require.Error(t, r.err)
	assert.Equal(t, "wait-for-database: DB_SSL_MODE VERIFY_CA needs the server's CA in DB_SERVER_CA\n", r.out)
}

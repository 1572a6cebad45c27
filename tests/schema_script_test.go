package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/mysql"
)

// stubSchemaServer is a mysql client whose server keeps, per database, a table count and
// whether the marker table exists ($STUB/<db>.tables, $STUB/<db>.marker). Loading a script
// (stdin, database as the last argument) sets the count to the number of CREATE TABLEs in it
// and the marker to whether the script names it. $STUB/down counts the calls that fail as if
// the server were not up yet; $STUB/nomarker makes loads leave the marker out.
const stubSchemaServer = `#!/bin/sh
query=""
last=""
prev=""
for a in "$@"; do
  [ "$prev" = "-e" ] && query="$a"
  prev="$a"
  last="$a"
done
case "$*" in *--defaults-extra-file=*) ;; *) echo "no defaults file" >&2; exit 9 ;; esac
down=$(cat "$STUB/down" 2>/dev/null || echo 0)
if [ "$down" -gt 0 ]; then
  echo $((down - 1)) >"$STUB/down"
  echo "ERROR 2003 (HY000): Can't connect to MySQL server on 'mysql:3306' (111)" >&2
  exit 1
fi
case "$query" in
  "SELECT 1") echo 1 ;;
  *"AND table_name="*)
    db=$(printf '%s' "$query" | sed "s/.*table_schema='\([a-z_]*\)'.*/\1/")
    cat "$STUB/$db.marker" 2>/dev/null || echo 0 ;;
  *"table_schema="*)
    db=$(printf '%s' "$query" | sed "s/.*table_schema='\([a-z_]*\)'.*/\1/")
    cat "$STUB/$db.tables" 2>/dev/null || echo 0 ;;
  "")
    cat >"$STUB/$last.loaded"
    grep -c "CREATE TABLE" "$STUB/$last.loaded" >"$STUB/$last.tables"
    if [ -e "$STUB/nomarker" ]; then echo 0; else echo 1; fi >"$STUB/$last.marker"
    echo "$last" >>"$STUB/loads" ;;
esac
`

type schemaRun struct {
	out, stub string
	err       error
}

// runSchema runs mysql.SchemaScript against the stub server, with scripts of three tables each
// whose last is the marker.
func runSchema(t *testing.T, state map[string]string) schemaRun {
	t.Helper()
	dash := need(t, "dash", "dash")
	stub, schemas, work := t.TempDir(), t.TempDir(), t.TempDir()
	for name, text := range map[string]string{
		"apimgt-mysql.sql": "CREATE TABLE IF NOT EXISTS AM_A (ID INT);\nCREATE TABLE IF NOT EXISTS AM_B (ID INT);\nCREATE TABLE IF NOT EXISTS AM_LAST (ID INT);\n",
		"shared-mysql.sql": "CREATE TABLE IF NOT EXISTS UM_A (ID INT);\nCREATE TABLE IF NOT EXISTS UM_B (ID INT);\nCREATE TABLE IF NOT EXISTS UM_LAST (ID INT);\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(schemas, name), []byte(text), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(stub, "clock"), []byte("1000\n"), 0o644))
	for f, v := range state {
		require.NoError(t, os.WriteFile(filepath.Join(stub, f), []byte(v+"\n"), 0o644))
	}
	bin := stubPath(t, map[string]string{"mysql": stubSchemaServer, "date": stubDate, "sleep": stubSleep},
		"sh", "cat", "grep", "sed", "rm", "printf", "basename")
	cmd := exec.Command(dash, "-c", mysql.SchemaScript)
	cmd.Env = []string{"PATH=" + bin, "STUB=" + stub, "WORK_DIR=" + work, "SCHEMA_DIR=" + schemas,
		"DB_HOST=mysql", "DB_PORT=3306", "DB_USER=apimadmin", "DB_PASSWORD=pw-DO-NOT-USE",
		"SCHEMAS=apim_db=apimgt-mysql.sql:AM_LAST shared_db=shared-mysql.sql:UM_LAST", "SCHEMA_WAIT_SECONDS=60"}
	out, err := cmd.CombinedOutput()
	left, _ := os.ReadDir(work)
	assert.Empty(t, left, "the password file is removed")
	return schemaRun{string(out), stub, err}
}

func (r schemaRun) loads() string {
	b, _ := os.ReadFile(filepath.Join(r.stub, "loads"))
	return strings.TrimSpace(string(b))
}

func TestSchemaScriptLoadsEachDatabaseOnce(t *testing.T) {
	r := runSchema(t, map[string]string{"down": "2"})
	require.NoError(t, r.err, r.out)
	assert.Equal(t, "apim_db\nshared_db", r.loads(), "each script loaded once, into its own database")
	assert.Equal(t, "schema: loading apimgt-mysql.sql into apim_db\nschema: apim_db loaded, 3 tables, in 0 s\n"+
		"schema: loading shared-mysql.sql into shared_db\nschema: shared_db loaded, 3 tables, in 0 s\n", r.out,
		"it waited quietly for the server, then loaded")
	loaded, err := os.ReadFile(filepath.Join(r.stub, "apim_db.loaded"))
	require.NoError(t, err)
	assert.Contains(t, string(loaded), "AM_LAST")

	// A re-run (the Job replaced by a new template) changes nothing.
	again := runSchema(t, map[string]string{"apim_db.tables": "248", "apim_db.marker": "1", "shared_db.tables": "52", "shared_db.marker": "1"})
	require.NoError(t, again.err, again.out)
	assert.Empty(t, again.loads())
	assert.Equal(t, "schema: apim_db already holds its schema (248 tables, AM_LAST among them); nothing to do\n"+
		"schema: shared_db already holds its schema (52 tables, UM_LAST among them); nothing to do\n", again.out)
}

func TestSchemaScriptRefusesAHalfLoadedDatabase(t *testing.T) {
	r := runSchema(t, map[string]string{"apim_db.tables": "97", "apim_db.marker": "0"})
	require.Error(t, r.err)
	assert.Empty(t, r.loads(), "nothing loaded over it")
	assert.Equal(t, "schema: apim_db holds 97 tables but not AM_LAST, the last table its script creates: an interrupted load, "+
		"or another version's schema. Not loading over it: empty apim_db (or restore a backup) and run this Job again\n", r.out)
}

func TestSchemaScriptChecksTheMarkerAgainstTheScriptsAndTheLoad(t *testing.T) {
	r := runSchema(t, map[string]string{"nomarker": ""})
	require.Error(t, r.err)
	assert.Contains(t, r.out, "schema: loading apimgt-mysql.sql into apim_db did not create AM_LAST")

	dash := need(t, "dash", "dash")
	work, schemas := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(schemas, "apimgt-mysql.sql"), []byte("CREATE TABLE IF NOT EXISTS AM_OTHER (ID INT);\n"), 0o644))
	bin := stubPath(t, map[string]string{"mysql": stubSchemaServer, "date": stubDate, "sleep": stubSleep}, "sh", "cat", "grep", "sed", "rm", "printf", "basename")
	stub := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(stub, "clock"), []byte("1\n"), 0o644))
	cmd := exec.Command(dash, "-c", mysql.SchemaScript)
	cmd.Env = []string{"PATH=" + bin, "STUB=" + stub, "WORK_DIR=" + work, "SCHEMA_DIR=" + schemas,
		"DB_HOST=mysql", "DB_PORT=3306", "DB_USER=apimadmin", "DB_PASSWORD=pw", "SCHEMAS=apim_db=apimgt-mysql.sql:AM_LAST"}
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Equal(t, "schema: "+schemas+"/apimgt-mysql.sql does not create AM_LAST; this API Manager version's scripts need another marker table\n", string(out))
}

func TestSchemaScriptGivesUpOnAServerThatNeverAnswers(t *testing.T) {
	r := runSchema(t, map[string]string{"down": "1000"})
	require.Error(t, r.err)
	assert.Equal(t, "schema: mysql:3306 did not answer apimadmin in 60 s: ERROR 2003 (HY000): Can't connect to MySQL server on 'mysql:3306' (111)\n", r.out)
}

package mysql

import "fmt"

// schemaDir is where the init container leaves the APIM schema scripts for MySQL.
const schemaDir = "/schemas"

// initScript runs once, on an empty data directory, from the official image's entrypoint
// (after it has created MYSQL_USER). Passwords come from the environment, never from here.
// latin1 follows WSO2's MySQL guide: the APIM scripts' index lengths assume it.
//
// The entrypoint runs a *.sh file that is executable and sources one that is not; the
// ConfigMap mounts it executable (initScriptMode), so it runs in a shell of its own. Should it
// ever be sourced all the same, its work happens in a subshell: its strict options never
// reach the entrypoint (whose later steps read variables that may be unset).
func initScript() string {
	return fmt.Sprintf(`#!/bin/sh
(
set -eu
mysql_root() { mysql --protocol=socket -uroot -p"$MYSQL_ROOT_PASSWORD" "$@"; }
mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS %[1]s CHARACTER SET latin1;
CREATE DATABASE IF NOT EXISTS %[2]s CHARACTER SET latin1;
GRANT ALL PRIVILEGES ON %[1]s.* TO '$MYSQL_USER'@'%%';
GRANT ALL PRIVILEGES ON %[2]s.* TO '$MYSQL_USER'@'%%';
FLUSH PRIVILEGES;
SQL
mysql_root %[1]s < %[3]s/apimgt-mysql.sql
mysql_root %[2]s < %[3]s/shared-mysql.sql
)
`, APIMDatabase, SharedDatabase, schemaDir)
}

// initScriptMode makes the init script executable (r-x for everyone): the entrypoint then
// runs it instead of sourcing it.
const initScriptMode = 0o555

// copySchemas runs in the API Manager image and copies the schema scripts it ships from the
// server home, failing with a clear message when the home is not where the args say.
func copySchemas(home string) string {
	return fmt.Sprintf(`set -eu
home=%[2]q
if [ ! -d "$home/dbscripts" ]; then
  echo "no dbscripts in $home: set the API Manager server home (apim.serverHome) to the image's product directory" >&2
  exit 1
fi
cp "$home/dbscripts/apimgt/mysql.sql" %[1]s/apimgt-mysql.sql
cp "$home/dbscripts/mysql.sql" %[1]s/shared-mysql.sql
`, schemaDir, home)
}

//go:build restore

package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/mysql"
	"github.com/wso2-k8s/apim-gke/tests/e2e/rootfs"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	rootPassword = "drill-root-Pw-1"
	appPassword  = "drill-app-Pw-2"
)

// server is MariaDB running from the drill's root filesystem, chrooted, on a loopback port.
type server struct {
	root string
	port int
	cmd  *exec.Cmd
	log  string
}

// chroot runs a command inside the root filesystem with env, and returns its combined output.
func (s *server) chroot(env []string, args ...string) (string, error) {
	cmd := exec.Command("chroot", append([]string{s.root}, args...)...)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR=/tmp", "HOME=/root"}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sql runs statements as root over the server's socket (root's unix_socket account).
func (s *server) sql(t *testing.T, query string) string {
	t.Helper()
	out, err := s.chroot(nil, "mariadb", "--socket=/run/mysqld/mysqld.sock", "-uroot", "-N", "-B", "-e", query)
	require.NoError(t, err, "%s\n%s", query, out)
	return strings.TrimSpace(out)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *server) start(t *testing.T) {
	t.Helper()
	_, err := s.chroot(nil, "install", "-d", "-o", "mysql", "-g", "mysql", "/run/mysqld")
	require.NoError(t, err)
	logf, err := os.Create(s.log)
	require.NoError(t, err)
	s.cmd = exec.Command("chroot", s.root, "mariadbd", "--user=mysql", "--datadir=/var/lib/mysql",
		"--socket=/run/mysqld/mysqld.sock", "--port="+strconv.Itoa(s.port), "--bind-address=127.0.0.1", "--skip-name-resolve")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	require.NoError(t, s.cmd.Start())
	t.Cleanup(func() { s.stop(); logf.Close() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if out, err := s.chroot(nil, "mariadb", "--socket=/run/mysqld/mysqld.sock", "-uroot", "-e", "SELECT 1"); err == nil {
			return
		} else if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.log)
			t.Fatalf("mariadbd did not answer in 60 s: %s\n%s", out, b)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// seed is API Manager-like data in apim_db and shared_db: foreign keys, blobs, a timestamp
// with fractions, text beyond latin1, a trigger and a procedure (the backup dumps routines and
// triggers), and the tables the wait for the database looks for.
const seed = `
SET SESSION max_recursive_iterations = 1000000;
CREATE DATABASE apim_db CHARACTER SET latin1;
CREATE DATABASE shared_db CHARACTER SET latin1;
CREATE USER 'apimadmin'@'%' IDENTIFIED BY '` + appPassword + `';
GRANT ALL PRIVILEGES ON apim_db.* TO 'apimadmin'@'%';
GRANT ALL PRIVILEGES ON shared_db.* TO 'apimadmin'@'%';
GRANT ALL PRIVILEGES ON drill_one.* TO 'apimadmin'@'%';
GRANT ALL PRIVILEGES ON drill_two.* TO 'apimadmin'@'%';
CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY '` + rootPassword + `';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
USE apim_db;
CREATE TABLE AM_SUBSCRIBER (SUBSCRIBER_ID INT AUTO_INCREMENT PRIMARY KEY, USER_ID VARCHAR(255) NOT NULL, TENANT_ID INT,
  EMAIL_ADDRESS VARCHAR(256), DATE_SUBSCRIBED TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB;
CREATE TABLE AM_APPLICATION (APPLICATION_ID INT AUTO_INCREMENT PRIMARY KEY, NAME VARCHAR(100), SUBSCRIBER_ID INT, UUID VARCHAR(256),
  FOREIGN KEY (SUBSCRIBER_ID) REFERENCES AM_SUBSCRIBER (SUBSCRIBER_ID) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE AM_API (API_ID INT AUTO_INCREMENT PRIMARY KEY, API_UUID VARCHAR(256), API_NAME VARCHAR(100), CONTEXT VARCHAR(200),
  ORGANIZATION VARCHAR(100), SWAGGER LONGBLOB, CREATED_TIME TIMESTAMP(6) NULL) ENGINE=InnoDB;
CREATE TABLE AM_SUBSCRIPTION (SUBSCRIPTION_ID INT AUTO_INCREMENT PRIMARY KEY, TIER_ID VARCHAR(50), API_ID INT, APPLICATION_ID INT,
  FOREIGN KEY (API_ID) REFERENCES AM_API (API_ID) ON DELETE RESTRICT,
  FOREIGN KEY (APPLICATION_ID) REFERENCES AM_APPLICATION (APPLICATION_ID) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE AM_API_KEY_APPLICATION_MAPPING (API_KEY_UUID VARCHAR(64), APPLICATION_UUID VARCHAR(64),
  PRIMARY KEY (API_KEY_UUID, APPLICATION_UUID)) ENGINE=InnoDB;
CREATE TRIGGER AM_API_CREATED BEFORE INSERT ON AM_API FOR EACH ROW SET NEW.CREATED_TIME = COALESCE(NEW.CREATED_TIME, NOW(6));
CREATE PROCEDURE AM_COUNT_APIS(OUT n INT) SELECT COUNT(*) INTO n FROM AM_API;
INSERT INTO AM_SUBSCRIBER (USER_ID, TENANT_ID, EMAIL_ADDRESS)
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 2000)
  SELECT CONCAT('user', n), -1234, CONCAT('user', n, '@example.org') FROM s;
INSERT INTO AM_APPLICATION (NAME, SUBSCRIBER_ID, UUID)
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 5000)
  SELECT CONCAT('app', n), 1 + n MOD 2000, UUID() FROM s;
INSERT INTO AM_API (API_UUID, API_NAME, CONTEXT, ORGANIZATION, SWAGGER)
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3000)
  SELECT UUID(), CONCAT('api', n), CONCAT('/api', n, '/1.0.0'), 'carbon.super', REPEAT(UNHEX(SHA2(n, 256)), 64) FROM s;
INSERT INTO AM_SUBSCRIPTION (TIER_ID, API_ID, APPLICATION_ID)
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20000)
  SELECT ELT(1 + n MOD 3, 'Gold', 'Silver', 'Unlimited'), 1 + n MOD 3000, 1 + n MOD 5000 FROM s;
INSERT INTO AM_API_KEY_APPLICATION_MAPPING
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 500)
  SELECT MD5(n), MD5(n + 1000000) FROM s;
USE shared_db;
CREATE TABLE UM_TENANT (UM_ID INT AUTO_INCREMENT PRIMARY KEY, UM_DOMAIN_NAME VARCHAR(255) NOT NULL, UM_EMAIL VARCHAR(255),
  UM_ACTIVE BOOLEAN DEFAULT FALSE, UM_CREATED_DATE TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, UM_USER_CONFIG LONGBLOB) ENGINE=InnoDB;
CREATE TABLE REG_RESOURCE (REG_VERSION INT AUTO_INCREMENT PRIMARY KEY, REG_PATH_ID INT, REG_NAME VARCHAR(256), REG_MEDIA_TYPE VARCHAR(500),
  REG_DESCRIPTION VARCHAR(1000) CHARACTER SET utf8mb4, REG_CONTENT LONGBLOB) ENGINE=InnoDB;
CREATE TABLE UM_ORG_HIERARCHY (UM_PARENT_ID VARCHAR(36), UM_ID VARCHAR(36), DEPTH INT, PRIMARY KEY (UM_PARENT_ID, UM_ID)) ENGINE=InnoDB;
INSERT INTO UM_TENANT (UM_DOMAIN_NAME, UM_EMAIL, UM_ACTIVE, UM_USER_CONFIG)
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 200)
  SELECT CONCAT('tenant', n, '.example.org'), CONCAT('admin@tenant', n), n MOD 2, REPEAT(UNHEX(MD5(n)), 100) FROM s;
INSERT INTO REG_RESOURCE (REG_PATH_ID, REG_NAME, REG_MEDIA_TYPE, REG_DESCRIPTION, REG_CONTENT)
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20000)
  SELECT n MOD 97, CONCAT('resource-', n), 'application/json', CONCAT('Beschreibung ', n, ' – ünïcödé ✓'), REPEAT(UNHEX(SHA2(n, 512)), 16) FROM s;
INSERT INTO UM_ORG_HIERARCHY VALUES ('10084a8d-113f-4211-a0d5-efe36b082211', '10084a8d-113f-4211-a0d5-efe36b082211', 0);
`

// snapshot is every table's row count and checksum, and the routines and triggers.
type snapshot map[string]string

func (s *server) snapshot(t *testing.T) snapshot {
	t.Helper()
	out := snapshot{}
	tables := s.sql(t, "SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables WHERE table_schema IN ('apim_db', 'shared_db') ORDER BY 1")
	for _, tb := range strings.Fields(tables) {
		count := s.sql(t, "SELECT COUNT(*) FROM "+tb)
		sum := strings.Fields(s.sql(t, "CHECKSUM TABLE "+tb))
		out[tb] = "rows=" + count + " checksum=" + sum[len(sum)-1]
	}
	out["routines"] = s.sql(t, "SELECT GROUP_CONCAT(routine_name ORDER BY 1) FROM information_schema.routines WHERE routine_schema IN ('apim_db', 'shared_db')")
	out["triggers"] = s.sql(t, "SELECT GROUP_CONCAT(trigger_name ORDER BY 1) FROM information_schema.triggers WHERE trigger_schema IN ('apim_db', 'shared_db')")
	return out
}

func (snap snapshot) rows() int {
	n := 0
	for _, v := range snap {
		if m := regexp.MustCompile(`rows=([0-9]+)`).FindStringSubmatch(v); m != nil {
			c, _ := strconv.Atoi(m[1])
			n += c
		}
	}
	return n
}

// backup runs the CronJob's own script, unchanged, in the root filesystem (whose mysqldump is
// MariaDB's), against the server over TCP as the CronJob reaches it.
func (s *server) backup(password string) (string, error) {
	return s.chroot([]string{"MYSQL_HOST=127.0.0.1", "MYSQL_PORT=" + strconv.Itoa(s.port), "MYSQL_USER=root", "MYSQL_PASSWORD=" + password,
		"BACKUP_DATABASES=apim_db shared_db", "BACKUP_DIR=/backups", "BACKUP_KEEP=3", "BACKUP_PREFIX=mysql"}, "sh", "-c", mysql.BackupScript)
}

func (s *server) dumps(t *testing.T) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(s.root, "backups", "mysql-*.sql.gz"))
	require.NoError(t, err)
	sort.Strings(found)
	return found
}

// waitForDatabase runs API Manager's wait-for-database script as its init container would.
func (s *server) waitForDatabase(password string, seconds int) (string, error) {
	return s.chroot([]string{"DB_HOST=127.0.0.1", "DB_PORT=" + strconv.Itoa(s.port), "DB_USER=apimadmin", "DB_PASSWORD=" + password,
		"DB_TABLES=apim_db." + apim.SchemaMarkers["apim_db"] + " shared_db." + apim.SchemaMarkers["shared_db"],
		"DB_WAIT_SECONDS=" + strconv.Itoa(seconds), "DB_WAIT_DIR=/db-wait"}, "sh", "-c", apim.DBWaitScript)
}

func record(t *testing.T, step string, d time.Duration) {
	path := os.Getenv("E2E_TIMINGS")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Logf("timings: %v", err)
		return
	}
	defer f.Close()
	b, _ := json.Marshal(map[string]any{"suite": "restore", "step": step, "seconds": d.Seconds(), "ok": !t.Failed()})
	fmt.Fprintln(f, string(b))
}

func cacheDir() string {
	if d := os.Getenv("E2E_CACHE"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "wso2-apim-e2e")
}

func TestRestoreDrill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the restore drill runs MariaDB chrooted in its root filesystem: run it as root (sudo make e2e-restore)")
	}
	for _, tool := range []string{"mmdebstrap", "chroot", "tar", "mysql", "gzip"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s is missing: apt-get install mmdebstrap mariadb-client", tool)
	}
	ctx := context.Background()
	repo, err := harness.RepoRoot()
	require.NoError(t, err)

	// 1. The image: Debian's MariaDB as a root filesystem and an importable image tarball.
	t0 := time.Now()
	images := filepath.Join(cacheDir(), "images")
	buildLog, err := os.Create(filepath.Join(t.TempDir(), "mmdebstrap.log"))
	require.NoError(t, err)
	layer, cached, err := rootfs.Cached(ctx, rootfs.MariaDB, images, buildLog)
	require.NoError(t, err, "see %s", buildLog.Name())
	image := strings.TrimSuffix(layer, ".tar") + "-image.tar"
	require.NoError(t, rootfs.WriteImage(layer, rootfs.MariaDBImage, image))
	t.Logf("rootfs %s (cached: %v), image %s (%s): %s", layer, cached, image, rootfs.MariaDBImage.Ref, time.Since(t0).Round(time.Second))
	record(t, "image", time.Since(t0))

	// 2. The server, from that root filesystem.
	t0 = time.Now()
	root := t.TempDir()
	untar, err := exec.Command("tar", "--numeric-owner", "-xpf", layer, "-C", root).CombinedOutput()
	require.NoError(t, err, "%s", untar)
	s := &server{root: root, port: freePort(t), log: filepath.Join(t.TempDir(), "mariadbd.log")}
	s.start(t)
	t.Logf("server: %s on 127.0.0.1:%d", s.sql(t, "SELECT VERSION()"), s.port)
	s.sql(t, seed)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "backups"), 0o700))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "db-wait"), 0o700))
	record(t, "server-and-data", time.Since(t0))

	out, err := s.waitForDatabase(appPassword, 30)
	require.NoError(t, err, out)
	assert.Contains(t, out, "wait-for-database: 127.0.0.1:"+strconv.Itoa(s.port)+" answers apimadmin over TLS if the server offers it and holds the schema")
	out, err = s.waitForDatabase("a-wrong-password", 6)
	require.Error(t, err, "a wrong password never passes: %s", out)
	assert.Contains(t, out, "Access denied for user 'apimadmin'")

	// 3. Backups, as the CronJob takes them, with work in between; the newest 3 are kept.
	t0 = time.Now()
	for i := 1; i <= 4; i++ {
		s.sql(t, fmt.Sprintf("INSERT INTO apim_db.AM_API (API_UUID, API_NAME, CONTEXT, ORGANIZATION) VALUES (UUID(), 'between-%d', '/between/%d', 'carbon.super')", i, i))
		time.Sleep(1100 * time.Millisecond) // dumps are named to the second
		out, err := s.backup(rootPassword)
		require.NoError(t, err, out)
		t.Logf("backup %d:\n%s", i, strings.TrimSpace(out))
	}
	dumps := s.dumps(t)
	require.Len(t, dumps, 3, "BACKUP_KEEP 3 after 4 runs")
	record(t, "backups", time.Since(t0))
	newest := dumps[len(dumps)-1]
	want := s.snapshot(t)
	m := regexp.MustCompile(`mysql-([0-9]{8}T[0-9]{6}Z)\.sql\.gz$`).FindStringSubmatch(newest)
	require.NotNil(t, m)
	taken, err := time.Parse("20060102T150405Z", m[1])
	require.NoError(t, err)

	// A backup that cannot log in leaves no dump and prunes nothing.
	out, err = s.backup("a-wrong-password")
	require.Error(t, err, out)
	assert.Equal(t, dumps, s.dumps(t))

	// 4. Work after the newest backup, which the restore cannot bring back (the recovery point),
	// then the failure: one database dropped, the other corrupted.
	s.sql(t, "INSERT INTO apim_db.AM_API (API_UUID, API_NAME, CONTEXT, ORGANIZATION) VALUES (UUID(), 'after-backup', '/after', 'carbon.super')")
	time.Sleep(2 * time.Second)
	failedAt := time.Now()
	s.sql(t, "DROP DATABASE apim_db; DELETE FROM shared_db.REG_RESOURCE WHERE REG_VERSION MOD 2 = 0; UPDATE shared_db.UM_TENANT SET UM_EMAIL = 'x'; DROP TABLE shared_db.UM_ORG_HIERARCHY;")
	rpo := failedAt.Sub(taken)
	assert.NotEqual(t, want, s.snapshot(t), "the failure changed the data")
	out, err = s.waitForDatabase(appPassword, 6)
	require.Error(t, err, "API Manager would not start on the broken database: %s", out)
	assert.Contains(t, out, "connected, but 0 of the 2 schema tables")

	// 5. A damaged dump is refused and changes nothing.
	truncated := filepath.Join(t.TempDir(), "mysql-20261201T000000Z.sql.gz")
	b, err := os.ReadFile(newest)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, b[:len(b)/2], 0o600))
	restore := func(dump string) (string, error) {
		cmd := exec.Command(filepath.Join(repo, "tools/restore-mysql.sh"), "--host", "127.0.0.1", "--port", strconv.Itoa(s.port), "--user", "root", "--yes", dump)
		cmd.Env = append(os.Environ(), "MYSQL_PASSWORD="+rootPassword)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err = restore(truncated)
	require.Error(t, err, out)
	assert.Contains(t, out, "is not a valid gzip file: refusing it; nothing was changed")
	assert.Equal(t, "0", s.sql(t, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'apim_db'"))

	// 6. The restore, with the project's tool, and the check of every table.
	t0 = time.Now()
	out, err = restore(newest)
	require.NoError(t, err, out)
	restored := time.Since(t0)
	t.Logf("restore:\n%s", strings.TrimSpace(out))
	got := s.snapshot(t)
	rto := time.Since(t0)
	assert.Equal(t, want, got, "every table's rows and checksum, the routines and the triggers, as at the newest backup")
	assert.Equal(t, "0", s.sql(t, "SELECT COUNT(*) FROM apim_db.AM_API WHERE API_NAME = 'after-backup'"), "work after the backup is lost: that is the recovery point")
	out, err = s.waitForDatabase(appPassword, 30)
	require.NoError(t, err, "API Manager's user can use the restored databases: %s", out)
	record(t, "restore", restored)
	record(t, "rto", rto)
	record(t, "rpo", rpo)

	// 7. The schema Job's script on a real server: loads once, skips on a re-run, refuses a
	// half-loaded database.
	schemas := filepath.Join(root, "schemas")
	require.NoError(t, os.MkdirAll(schemas, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(schemas, "one.sql"), []byte("CREATE TABLE IF NOT EXISTS T_A (ID INT PRIMARY KEY);\nINSERT INTO T_A VALUES (1);\nCREATE TABLE IF NOT EXISTS T_LAST (ID INT);\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(schemas, "two.sql"), []byte("CREATE TABLE IF NOT EXISTS U_A (ID INT PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS U_LAST (ID INT);\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "work"), 0o700))
	s.sql(t, "CREATE DATABASE drill_one; CREATE DATABASE drill_two;")
	schema := func() (string, error) {
		return s.chroot([]string{"DB_HOST=127.0.0.1", "DB_PORT=" + strconv.Itoa(s.port), "DB_USER=apimadmin", "DB_PASSWORD=" + appPassword,
			"SCHEMAS=drill_one=one.sql:T_LAST drill_two=two.sql:U_LAST", "SCHEMA_DIR=/schemas", "WORK_DIR=/work"}, "sh", "-c", mysql.SchemaScript)
	}
	out, err = schema()
	require.NoError(t, err, out)
	assert.Contains(t, out, "schema: drill_one loaded, 2 tables")
	out, err = schema()
	require.NoError(t, err, out)
	assert.Contains(t, out, "schema: drill_one already holds its schema (2 tables, T_LAST among them); nothing to do")
	assert.Equal(t, "1", s.sql(t, "SELECT COUNT(*) FROM drill_one.T_A"), "loaded exactly once")
	s.sql(t, "DROP TABLE drill_two.U_LAST")
	out, err = schema()
	require.Error(t, err, out)
	assert.Contains(t, out, "schema: drill_two holds 1 tables but not U_LAST")

	size := int64(0)
	if info, err := os.Stat(newest); err == nil {
		size = info.Size()
	}
	fmt.Printf("RESTORE DRILL: RPO %.0f s (newest backup %s, taken %s before the failure), RTO %.1f s (restore %.1f s, then every table checked: %d tables, %d rows, dump %.1f MB)\n",
		rpo.Seconds(), filepath.Base(newest), rpo.Round(time.Second), rto.Seconds(), restored.Seconds(), len(want)-2, want.rows(), float64(size)/1e6)
}

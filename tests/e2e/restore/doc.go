// Package restore is the restore drill (build tag restore, `make e2e-restore`): MariaDB from a
// root filesystem built of Debian's packages, the backup CronJob's own script dumping it, the
// data dropped and corrupted, tools/restore-mysql.sh restoring it, every table's row count and
// checksum compared, and the recovery point and time printed. Needs root (chroot) and
// mmdebstrap.
package restore

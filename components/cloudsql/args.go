package cloudsql

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Args configures the instance. Zero values are replaced by the defaults in WithDefaults. The
// JSON names are the settings of a stack's `mysql.cloudSql` key.
type Args struct {
	// Version is the database version. Defaults to MYSQL_8_4, the newest MySQL 8 LTS Cloud SQL
	// offers (Cloud SQL's SqlDatabaseVersion enum and its "Database versions" page).
	Version string `json:"version"`
	// Edition is ENTERPRISE or ENTERPRISE_PLUS. Defaults to ENTERPRISE, whose custom tiers come
	// in small sizes.
	Edition string `json:"edition"`
	// Tier is the machine type: db-custom-<vCPUs>-<MiB> for ENTERPRISE,
	// db-perf-optimized-N-<vCPUs> for ENTERPRISE_PLUS. Defaults to db-custom-2-7680
	// (2 vCPUs, 7.5 GiB).
	Tier string `json:"tier"`
	// Availability is REGIONAL (a standby in a second zone, automatic failover) or ZONAL.
	// The Platform defaults it to REGIONAL for a regional cluster and ZONAL for a zonal one;
	// alone it defaults to REGIONAL.
	Availability string `json:"availability"`
	// Zone is the primary's zone (a zone of Region). Defaults to Cloud SQL's choice; the
	// Platform sets a zonal cluster's zone.
	Zone string `json:"zone"`
	// DiskSizeGB is the initial data disk, at least 10; it grows automatically, and the
	// program never shrinks it back. Defaults to 20.
	DiskSizeGB int `json:"diskSizeGb"`
	// AllocatedRange is the address range reserved in the VPC for Google's managed services
	// (Private Service Access); Cloud SQL takes its private address from it. A /24 or larger,
	// clear of every other range of the VPC. Defaults to 10.40.0.0/20 (Filestore's default
	// range starts at 10.30.0.0).
	AllocatedRange string `json:"allocatedRange"`
	// Backup configures automated backups and point-in-time recovery.
	Backup Backup `json:"backup"`
	// MaintenanceWindow is the weekly hour in which Cloud SQL may restart the instance for
	// updates. Defaults to Sunday 04:00-05:00 UTC, after the backup window starts.
	MaintenanceWindow MaintenanceWindow `json:"maintenanceWindow"`

	// Project and Region place the instance. Required.
	Project string `json:"-"`
	Region  string `json:"-"`
	// Network is the VPC's ID (projects/<p>/global/networks/<n>). Required.
	Network pulumi.StringInput `json:"-"`
	// MaxConnections is the max_connections flag. Required (the Platform sizes it from API
	// Manager's pools).
	MaxConnections int `json:"-"`
	// Username is the application user. Required.
	Username string `json:"-"`
	// Password is the application user's password, a secret. Required.
	Password pulumi.StringInput `json:"-"`
	// Protect sets Cloud SQL's deletion protection, the provider's and Pulumi's protect.
	// Defaults to true.
	Protect *bool `json:"-"`
	// Labels are put on the instance.
	Labels map[string]string `json:"-"`
}

// Backup is the `mysql.cloudSql.backup` key.
type Backup struct {
	// Enabled takes a daily automated backup. Defaults to true; REGIONAL availability needs it.
	Enabled *bool `json:"enabled"`
	// StartTime is the UTC hour:minute the daily backup window (4 hours) starts. Defaults to
	// 02:00.
	StartTime string `json:"startTime"`
	// RetainedBackups is how many daily backups are kept, 1..365. Defaults to 7.
	RetainedBackups int `json:"retainedBackups"`
	// BinaryLog keeps MySQL's binary logs, which point-in-time recovery replays; REGIONAL
	// availability needs it. Defaults to true.
	BinaryLog *bool `json:"binaryLog"`
	// TransactionLogRetentionDays is how far back point-in-time recovery reaches: 1..7 days
	// (ENTERPRISE) or 1..35 (ENTERPRISE_PLUS). Defaults to 7.
	TransactionLogRetentionDays int `json:"transactionLogRetentionDays"`
	// Location is where backups are stored (a region or multi-region). Defaults to Cloud
	// SQL's choice, the multi-region of the instance's region.
	Location string `json:"location"`
}

// MaintenanceWindow is the `mysql.cloudSql.maintenanceWindow` key.
type MaintenanceWindow struct {
	// Day of the week, 1 (Monday) to 7 (Sunday). Defaults to 7.
	Day int `json:"day"`
	// Hour of the day in UTC, 0..23. Defaults to 4.
	Hour *int `json:"hour"`
	// UpdateTrack is canary, stable or week5: how soon after their announcement updates come.
	// Defaults to stable.
	UpdateTrack string `json:"updateTrack"`
}

// Availability types.
const (
	Regional = "REGIONAL"
	Zonal    = "ZONAL"
)

// Editions.
const (
	Enterprise     = "ENTERPRISE"
	EnterprisePlus = "ENTERPRISE_PLUS"
)

// SSLMode is what the instance requires of connections: TLS, without client certificates
// (API Manager authenticates with its password, over TLS whose server certificate it checks).
const SSLMode = "ENCRYPTED_ONLY"

func yes() *bool { v := true; return &v }

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.Version == "" {
		a.Version = "MYSQL_8_4"
	}
	if a.Edition == "" {
		a.Edition = Enterprise
	}
	if a.Tier == "" {
		a.Tier = "db-custom-2-7680"
	}
	if a.Availability == "" {
		a.Availability = Regional
	}
	if a.DiskSizeGB == 0 {
		a.DiskSizeGB = 20
	}
	if a.AllocatedRange == "" {
		a.AllocatedRange = "10.40.0.0/20"
	}
	b := &a.Backup
	if b.Enabled == nil {
		b.Enabled = yes()
	}
	if b.StartTime == "" {
		b.StartTime = "02:00"
	}
	if b.RetainedBackups == 0 {
		b.RetainedBackups = 7
	}
	if b.BinaryLog == nil {
		b.BinaryLog = yes()
	}
	if b.TransactionLogRetentionDays == 0 {
		b.TransactionLogRetentionDays = 7
	}
	m := &a.MaintenanceWindow
	if m.Day == 0 {
		m.Day = 7
	}
	if m.Hour == nil {
		h := 4
		m.Hour = &h
	}
	if m.UpdateTrack == "" {
		m.UpdateTrack = "stable"
	}
	if a.Protect == nil {
		a.Protect = yes()
	}
	return a
}

var (
	versionRe    = regexp.MustCompile(`^MYSQL_8_[0-9]+(_[0-9]+)?$`)
	customTierRe = regexp.MustCompile(`^db-custom-([0-9]+)-([0-9]+)$`)
	plusTierRe   = regexp.MustCompile(`^db-perf-optimized-N-[0-9]+$`)
	startTimeRe  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	zoneRe       = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+-[a-z]$`)
)

// Validate checks defaulted args; key prefixes every message (e.g. "mysql.cloudSql").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	p.Matches(k("version"), a.Version, versionRe, "a MySQL 8 version of Cloud SQL such as MYSQL_8_4")
	p.OneOf(k("edition"), a.Edition, Enterprise, EnterprisePlus)
	switch a.Edition {
	case Enterprise:
		p.Matches(k("tier"), a.Tier, customTierRe, "an ENTERPRISE tier such as db-custom-2-7680 (vCPUs, then MiB of memory)")
	case EnterprisePlus:
		p.Matches(k("tier"), a.Tier, plusTierRe, "an ENTERPRISE_PLUS tier such as db-perf-optimized-N-2")
	}
	p.OneOf(k("availability"), a.Availability, Regional, Zonal)
	if a.Zone != "" {
		if !zoneRe.MatchString(a.Zone) || (a.Region != "" && !strings.HasPrefix(a.Zone, a.Region+"-")) {
			p.Addf(k("zone"), "%q is not valid; want a zone of region %q", a.Zone, a.Region)
		}
	}
	if a.DiskSizeGB < 10 || a.DiskSizeGB > 65536 {
		p.Addf(k("diskSizeGb"), "%d is not valid; want 10 to 65536 (GB)", a.DiskSizeGB)
	}
	if pfx, ok := p.CIDR(k("allocatedRange"), a.AllocatedRange); ok && pfx.Bits() > 24 {
		p.Addf(k("allocatedRange"), "%s is too small; want a /24 or larger range: Cloud SQL takes a /24 from it for each region", pfx)
	} else if ok && !pfx.Addr().IsPrivate() {
		p.Addf(k("allocatedRange"), "%s is not a private range; want a range of RFC 1918 such as 10.40.0.0/20", pfx)
	}

	b := a.Backup
	bk := func(name string) string { return k("backup." + name) }
	if !startTimeRe.MatchString(b.StartTime) {
		p.Addf(bk("startTime"), "%q is not valid; want a UTC time HH:MM such as 02:00", b.StartTime)
	}
	p.Between(bk("retainedBackups"), b.RetainedBackups, 1, 365)
	maxLogDays := 7
	if a.Edition == EnterprisePlus {
		maxLogDays = 35
	}
	p.Between(bk("transactionLogRetentionDays"), b.TransactionLogRetentionDays, 1, maxLogDays)
	if *b.BinaryLog && !*b.Enabled {
		p.Addf(bk("binaryLog"), "true needs %s true: Cloud SQL keeps binary logs only with automated backups", bk("enabled"))
	}
	if a.Availability == Regional && (!*b.Enabled || !*b.BinaryLog) {
		p.Addf(k("availability"), "REGIONAL needs %s and %s true: Cloud SQL's high availability for MySQL replicates through them", bk("enabled"), bk("binaryLog"))
	}

	m := a.MaintenanceWindow
	p.Between(k("maintenanceWindow.day"), m.Day, 1, 7)
	p.Between(k("maintenanceWindow.hour"), *m.Hour, 0, 23)
	p.OneOf(k("maintenanceWindow.updateTrack"), m.UpdateTrack, "canary", "stable", "week5")
	return p
}

// AllocatedPrefix is the allocated range parsed; ok is false when it is not a valid CIDR.
func (a Args) AllocatedPrefix() (netip.Prefix, bool) {
	pfx, err := netip.ParsePrefix(a.AllocatedRange)
	return pfx, err == nil && pfx == pfx.Masked()
}

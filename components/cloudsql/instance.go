package cloudsql

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/servicenetworking"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/sql"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/mysql"
)

// Databases API Manager uses, created latin1 as WSO2's MySQL guide asks (its scripts' index
// lengths assume it).
var Databases = []string{mysql.APIMDatabase, mysql.SharedDatabase}

// Instance is the component's public face: what a client needs to connect.
type Instance struct {
	pulumi.ResourceState

	// InstanceName is Cloud SQL's name of the instance (generated: a deleted name is blocked
	// for a week).
	InstanceName pulumi.StringOutput
	// ConnectionName is <project>:<region>:<instance>, for gcloud and the Cloud SQL connectors.
	ConnectionName pulumi.StringOutput
	// PrivateIP is the instance's address inside the VPC; it has no public one.
	PrivateIP pulumi.StringOutput
	// ServerCA is the PEM certificate of the CA that signs the server's certificate.
	ServerCA pulumi.StringOutput
	// Username is the application user.
	Username string
	// Ready is done when the databases and the user exist.
	Ready []pulumi.Resource
}

// NewInstance creates the Private Service Access range and peering, the instance, apim_db,
// shared_db and the application user. Pass the gcp provider in opts. The instance waits for
// nothing but the network and the peering: it is the slowest resource of a stack, so it is
// built while GKE builds the cluster; only the user waits for its password.
func NewInstance(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Instance, error) {
	if args == nil {
		return nil, fmt.Errorf("cloudsql %q: args are required", name)
	}
	a := args.WithDefaults()
	p := a.Validate("")
	var missing []string
	for _, m := range []struct {
		field string
		empty bool
	}{
		{"Project", a.Project == ""}, {"Region", a.Region == ""}, {"Network", a.Network == nil},
		{"MaxConnections", a.MaxConnections < 1}, {"Username", a.Username == ""}, {"Password", a.Password == nil},
	} {
		if m.empty {
			missing = append(missing, m.field)
		}
	}
	if len(missing) > 0 {
		p.Addf("args", "%s required", strings.Join(missing, ", "))
	}
	if err := p.Err(fmt.Sprintf("cloudsql %q", name)); err != nil {
		return nil, err
	}
	inst := &Instance{Username: a.Username}
	if err := ctx.RegisterComponentResource("wso2apim:cloudsql:Instance", name, inst, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(inst)
	project := pulumi.String(a.Project)
	pfx, _ := a.AllocatedPrefix()

	// Private Service Access: a range of the VPC for Google's producers, and the peering that
	// routes it.
	rng, err := compute.NewGlobalAddress(ctx, name+"-range", &compute.GlobalAddressArgs{
		Project:      project,
		Description:  pulumi.String("Private Service Access range of Cloud SQL (" + name + ")"),
		Purpose:      pulumi.String("VPC_PEERING"),
		AddressType:  pulumi.String("INTERNAL"),
		Address:      pulumi.String(pfx.Addr().String()),
		PrefixLength: pulumi.Int(pfx.Bits()),
		Network:      a.Network,
	}, parent)
	if err != nil {
		return nil, err
	}
	peering, err := servicenetworking.NewConnection(ctx, name+"-psa", &servicenetworking.ConnectionArgs{
		Network:               a.Network,
		Service:               pulumi.String("servicenetworking.googleapis.com"),
		ReservedPeeringRanges: pulumi.StringArray{rng.Name},
		// Deleting the connection right after the instance fails for days ("Producer services
		// ... are still using this connection", hashicorp/terraform-provider-google#16275);
		// abandoned, it goes with the VPC.
		DeletionPolicy: pulumi.String("ABANDON"),
	}, parent)
	if err != nil {
		return nil, err
	}

	settings := &sql.DatabaseInstanceSettingsArgs{
		Tier:                      pulumi.String(a.Tier),
		Edition:                   pulumi.String(a.Edition),
		AvailabilityType:          pulumi.String(a.Availability),
		DiskType:                  pulumi.String("PD_SSD"),
		DiskSize:                  pulumi.Int(a.DiskSizeGB),
		DiskAutoresize:            pulumi.Bool(true),
		DeletionProtectionEnabled: pulumi.Bool(*a.Protect),
		UserLabels:                pulumi.ToStringMap(a.Labels),
		IpConfiguration: &sql.DatabaseInstanceSettingsIpConfigurationArgs{
			Ipv4Enabled:      pulumi.Bool(false),
			PrivateNetwork:   a.Network,
			AllocatedIpRange: rng.Name,
			SslMode:          pulumi.String(SSLMode),
		},
		BackupConfiguration: &sql.DatabaseInstanceSettingsBackupConfigurationArgs{
			Enabled:                     pulumi.Bool(*a.Backup.Enabled),
			BinaryLogEnabled:            pulumi.Bool(*a.Backup.BinaryLog),
			StartTime:                   pulumi.String(a.Backup.StartTime),
			TransactionLogRetentionDays: pulumi.Int(a.Backup.TransactionLogRetentionDays),
			BackupRetentionSettings: &sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs{
				RetainedBackups: pulumi.Int(a.Backup.RetainedBackups),
				RetentionUnit:   pulumi.String("COUNT"),
			},
		},
		MaintenanceWindow: &sql.DatabaseInstanceSettingsMaintenanceWindowArgs{
			Day:         pulumi.Int(a.MaintenanceWindow.Day),
			Hour:        pulumi.Int(*a.MaintenanceWindow.Hour),
			UpdateTrack: pulumi.String(a.MaintenanceWindow.UpdateTrack),
		},
		DatabaseFlags: sql.DatabaseInstanceSettingsDatabaseFlagArray{
			sql.DatabaseInstanceSettingsDatabaseFlagArgs{Name: pulumi.String("max_connections"), Value: pulumi.String(fmt.Sprint(a.MaxConnections))},
		},
	}
	if a.Backup.Location != "" {
		settings.BackupConfiguration.(*sql.DatabaseInstanceSettingsBackupConfigurationArgs).Location = pulumi.String(a.Backup.Location)
	}
	if a.Zone != "" {
		settings.LocationPreference = &sql.DatabaseInstanceSettingsLocationPreferenceArgs{Zone: pulumi.String(a.Zone)}
	}
	db, err := sql.NewDatabaseInstance(ctx, name, &sql.DatabaseInstanceArgs{
		Project:            project,
		Region:             pulumi.String(a.Region),
		DatabaseVersion:    pulumi.String(a.Version),
		DeletionProtection: pulumi.Bool(*a.Protect),
		Settings:           settings,
	}, parent, pulumi.DependsOn([]pulumi.Resource{peering}), pulumi.Protect(*a.Protect),
		// The disk grows by itself; declaring its first size again must not shrink it (which
		// Cloud SQL refuses) or show as a diff.
		pulumi.IgnoreChanges([]string{"settings.diskSize"}),
		// Creating a REGIONAL instance takes many minutes; the default 20 is known to be short.
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "60m", Update: "60m", Delete: "30m"}))
	if err != nil {
		return nil, err
	}
	inst.InstanceName, inst.ConnectionName, inst.PrivateIP = db.Name, db.ConnectionName, db.PrivateIpAddress
	inst.ServerCA = db.ServerCaCerts.Index(pulumi.Int(0)).Cert().Elem()

	for _, d := range Databases {
		r, err := sql.NewDatabase(ctx, name+"-"+strings.ReplaceAll(d, "_", "-"), &sql.DatabaseArgs{
			Project:   project,
			Instance:  db.Name,
			Name:      pulumi.String(d),
			Charset:   pulumi.String("latin1"),
			Collation: pulumi.String("latin1_swedish_ci"),
		}, parent, pulumi.Protect(*a.Protect))
		if err != nil {
			return nil, err
		}
		inst.Ready = append(inst.Ready, r)
	}
	// A user Cloud SQL creates may use every database of the instance; it is the only one
	// that can log in (root has no password, so it cannot).
	user, err := sql.NewUser(ctx, name+"-user", &sql.UserArgs{
		Project:  project,
		Instance: db.Name,
		Name:     pulumi.String(a.Username),
		Host:     pulumi.String("%"),
		Password: pulumi.ToSecret(a.Password).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, err
	}
	inst.Ready = append(inst.Ready, user)

	if err := ctx.RegisterResourceOutputs(inst, pulumi.Map{
		"instanceName":   inst.InstanceName,
		"connectionName": inst.ConnectionName,
		"privateIp":      inst.PrivateIP,
	}); err != nil {
		return nil, err
	}
	return inst, nil
}

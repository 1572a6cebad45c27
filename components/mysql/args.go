package mysql

import (
	"regexp"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Args configures a MySQL. Zero values are replaced by the defaults in WithDefaults. The JSON
// names are the settings of a stack's `mysql` config key.
type Args struct {
	// Namespace to deploy into. Required.
	Namespace pulumi.StringInput `json:"-"`
	// Name of the StatefulSet and of the Service clients connect to. Defaults to "mysql".
	Name string `json:"-"`
	// Image is the MySQL image. Defaults to mysql:8.4 (the LTS line).
	Image string `json:"image"`
	// APIMImage is the API Manager image whose dbscripts are loaded into the new databases.
	// Required: use the same image as the API Manager control plane.
	APIMImage string `json:"-"`
	// APIMServerHome is the server home inside APIMImage (where dbscripts/ is). Required.
	APIMServerHome string `json:"-"`
	// RootPassword and Password (of the application user) must be secrets. Required.
	RootPassword pulumi.StringInput `json:"-"`
	Password     pulumi.StringInput `json:"-"`
	// Username of the application user that owns apim_db and shared_db. Defaults to
	// "apimadmin".
	Username string `json:"username"`
	// StorageSize of the data volume. Defaults to 20Gi.
	StorageSize string `json:"storageSize"`
	// StorageClass of the data volume. Defaults to the cluster's default class (on GKE,
	// pd-balanced block storage).
	StorageClass string `json:"storageClass"`
	// Resources default to requests 500m/1Gi and limits 2/2Gi; ephemeral storage (the data
	// lives on its volume) 256Mi, up to 1Gi.
	Resources kube.Resources `json:"resources"`
	// Protect guards the StatefulSet against deletion and replacement by Pulumi; the data
	// volume is retained by the StatefulSet's retention policy in any case. Defaults to true.
	Protect *bool `json:"protect"`
	// MaxConnections is the server's max_connections. Defaults to DefaultMaxConnections; the
	// Platform sizes it from API Manager's connection pools (mysql.maxConnections).
	MaxConnections int `json:"maxConnections"`
	// Backup is the scheduled logical backup.
	Backup BackupArgs `json:"backup"`
	// Clients may connect on 3306; a NetworkPolicy denies everyone else, and MySQL itself
	// may call nothing.
	Clients []kube.Peer `json:"-"`
}

// DefaultMaxConnections is max_connections when nothing sizes it: WSO2's own docker-compose
// setup of API Manager with MySQL runs 1000 (MySQL's default of 151 is below what two API
// Manager pods' pools may open).
const DefaultMaxConnections = 1000

// Database names WSO2 API Manager expects.
const (
	APIMDatabase   = "apim_db"
	SharedDatabase = "shared_db"
	Port           = 3306
	// uid of the mysql user in the official image.
	uid = 999
)

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.Name == "" {
		a.Name = "mysql"
	}
	if a.Image == "" {
		a.Image = "mysql:8.4"
	}
	if a.Username == "" {
		a.Username = "apimadmin"
	}
	if a.StorageSize == "" {
		a.StorageSize = "20Gi"
	}
	a.Resources = a.Resources.WithDefaults(kube.Resources{
		Requests: kube.Compute{CPU: "500m", Memory: "1Gi", EphemeralStorage: "256Mi"},
		Limits:   kube.Compute{CPU: "2", Memory: "2Gi", EphemeralStorage: "1Gi"},
	})
	if a.Protect == nil {
		protect := true
		a.Protect = &protect
	}
	if a.MaxConnections == 0 {
		a.MaxConnections = DefaultMaxConnections
	}
	a.Backup = a.Backup.WithDefaults()
	return a
}

var userRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,31}$`)

// Validate checks defaulted args; key prefixes every message (e.g. "mysql").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	p.Image(k("image"), a.Image, "mysql:8.4")
	p.Matches(k("username"), a.Username, userRe, "a MySQL user name (letters, digits, '_', at most 32)")
	p.Quantity(k("storageSize"), a.StorageSize, "20Gi")
	p.Resources(k("resources"), a.Resources)
	p.Between(k("maxConnections"), a.MaxConnections, 1, 100000)
	p.Add(a.Backup.Validate(k("backup"))...)
	return p
}

// SchemaInitResources are what the init container copying the schema scripts requests and may
// use.
var SchemaInitResources = kube.Resources{Requests: kube.Compute{CPU: "50m", Memory: "64Mi", EphemeralStorage: "16Mi"},
	Limits: kube.Compute{CPU: "200m", Memory: "128Mi", EphemeralStorage: "64Mi"}}

// MySQL is the component's public face: what a client needs to connect.
type MySQL struct {
	pulumi.ResourceState

	// Host is the Service name, resolvable from the same namespace.
	Host string
	// Port is 3306.
	Port int
	// Username is the application user.
	Username string
	// PasswordSecret names the Secret key holding the application user's password.
	PasswordSecret kube.SecretRef
	// SSLMode is how clients must use TLS: REQUIRED for the in-cluster server (it refuses
	// plain connections; its certificate is its own, with no CA a client could check).
	SSLMode string
	// ServerCA is the PEM of the CA that signs the server's certificate (nil in cluster).
	ServerCA pulumi.StringInput
}

// ContainerName is the server's container, and DataVolume its data's volume claim template:
// the disk and connection alerts select by them.
const (
	ContainerName = "mysql"
	DataVolume    = "data"
)

// Component is the database server's pods' component label.
const Component = "database"

// Selector picks the database server's pods (the server named name): API Manager and the
// backup call them.
func Selector(name string) map[string]string { return kube.Selector(name, Component) }

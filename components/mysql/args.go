package mysql

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// Args configures a MySQL. Zero values are replaced by the defaults in WithDefaults.
type Args struct {
	// Namespace to deploy into. Required.
	Namespace pulumi.StringInput
	// Name of the StatefulSet and of the Service clients connect to. Defaults to "mysql".
	Name string
	// Image is the MySQL image. Defaults to mysql:8.4 (the LTS line).
	Image string
	// APIMImage is the API Manager image whose dbscripts are loaded into the new databases.
	// Required: use the same image as the API Manager control plane.
	APIMImage string
	// RootPassword and Password (of the application user) must be secrets. Required.
	RootPassword, Password pulumi.StringInput
	// Username of the application user that owns apim_db and shared_db. Defaults to
	// "apimadmin".
	Username string
	// StorageSize of the data volume. Defaults to 20Gi.
	StorageSize string
	// StorageClass of the data volume. Defaults to the cluster's default class (on GKE,
	// pd-balanced block storage).
	StorageClass string
	// Resources default to requests 500m/1Gi and limits 2/2Gi.
	Resources kube.Resources
	// Protect guards the StatefulSet against deletion and replacement by Pulumi; the data
	// volume is retained by the StatefulSet's retention policy in any case. Defaults to true.
	Protect *bool
	// Clients are pod label selectors allowed to connect on 3306; a NetworkPolicy denies
	// everyone else.
	Clients []map[string]string
}

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
		Requests: kube.Compute{CPU: "500m", Memory: "1Gi"},
		Limits:   kube.Compute{CPU: "2", Memory: "2Gi"},
	})
	if a.Protect == nil {
		protect := true
		a.Protect = &protect
	}
	return a
}

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
}

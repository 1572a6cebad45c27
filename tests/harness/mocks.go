package harness

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/policy/rules"
)

// mocks records registrations into a Graph and answers with plausible cloud outputs so that
// programs can compose them (an endpoint for a cluster, an IP for a file server, ...).
type mocks struct {
	project, stack string
	graph          *Graph
	state          map[string]map[string]any
}

var _ pulumi.MockResourceMonitor = (*mocks)(nil)

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	r := &Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, raw: args.Inputs}
	if rpc != nil {
		r.Parent = rpc.GetParent()
		r.Dependencies = rpc.GetDependencies()
		r.Protect = rpc.GetProtect()
		r.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.AfterCreate = rpc.GetHooks().GetAfterCreate()
	}
	r.URN = m.urn(r.Parent, r.Type, r.Name)
	if resource.URN(r.Parent).QualifiedType() == resource.RootStackType {
		r.Parent = ""
	}
	if args.Provider != "" {
		if i := strings.LastIndex(args.Provider, "::"); i > 0 {
			r.Provider = args.Provider[:i]
		}
	}
	r.Inputs, r.SecretPaths = plain(args.Inputs)

	id := args.Name + "-id"
	if args.ID != "" {
		id = args.ID
	}
	r.ID = id
	if err := m.graph.add(r); err != nil {
		return "", nil, err
	}

	outputs := args.Inputs.Copy()
	for k, v := range computedOutputs(r) {
		outputs[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	if stored, ok := m.state[r.Type+"::"+r.Name]; ok {
		for _, path := range r.IgnoreChanges {
			// The engine keeps the old value of an ignored property whole at its top level
			// here: nested ignore paths keep their whole top-level property.
			key := rules.SplitPath(path)[0]
			v, ok := stored[key]
			if !ok {
				continue
			}
			pv := resource.NewPropertyValue(v)
			if r.IsSecret(key) || slices.ContainsFunc(r.SecretPaths, func(p string) bool { return strings.HasPrefix(p, key+".") }) {
				pv = resource.MakeSecret(pv)
			}
			outputs[resource.PropertyKey(key)] = pv
		}
	}
	return id, outputs, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("harness: unexpected invoke %s: programs should not need data sources", args.Token)
}

func (m *mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

// computedOutputs are the outputs a real provider would compute for the types our programs
// read outputs from. Values come from documentation ranges (RFC 5737) so they are never real.
func computedOutputs(r *Resource) map[string]any {
	name := r.String("name")
	if name == "" {
		name = r.Name
	}
	project := r.String("project")
	switch r.Type {
	case "gcp:container/cluster:Cluster":
		return map[string]any{
			"name":       name,
			"endpoint":   "203.0.113.10",
			"masterAuth": map[string]any{"clusterCaCertificate": "bW9jay1jYQ=="},
		}
	case "gcp:projects/serviceIdentity:ServiceIdentity":
		email := "service-123456789012@container-engine-robot.iam.gserviceaccount.com"
		return map[string]any{"email": email, "member": "serviceAccount:" + email}
	case "gcp:compute/address:Address":
		return map[string]any{"name": name, "address": "10.10.0.50"}
	case "gcp:serviceaccount/account:Account":
		return map[string]any{"email": fmt.Sprintf("%s@%s.iam.gserviceaccount.com", r.String("accountId"), project)}
	case "gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork", "gcp:compute/disk:Disk",
		"gcp:compute/instance:Instance", "gcp:compute/router:Router", "gcp:compute/globalAddress:GlobalAddress",
		"gcp:compute/securityPolicy:SecurityPolicy":
		out := map[string]any{
			"name":     name,
			"selfLink": fmt.Sprintf("https://compute.mock/projects/%s/%s/%s", project, r.Type, name),
		}
		switch r.Type {
		case "gcp:compute/instance:Instance":
			ifaces, _ := r.Get("networkInterfaces").([]any)
			if len(ifaces) > 0 {
				iface, _ := ifaces[0].(map[string]any)
				copyIface := map[string]any{}
				for k, v := range iface {
					copyIface[k] = v
				}
				copyIface["networkIp"] = "10.10.0.50"
				out["networkInterfaces"] = []any{copyIface}
			}
		case "gcp:compute/globalAddress:GlobalAddress":
			out["address"] = "198.51.100.20"
		}
		return out
	case "kubernetes:core/v1:Service":
		if r.String("spec.clusterIP") != "None" {
			spec, _ := r.Get("spec").(map[string]any)
			copySpec := map[string]any{}
			for k, v := range spec {
				copySpec[k] = v
			}
			copySpec["clusterIP"] = "10.96.0.50"
			return map[string]any{"spec": copySpec}
		}
	case "gcp:storage/bucket:Bucket":
		return map[string]any{"name": name}
	case "gcp:sql/databaseInstance:DatabaseInstance":
		return map[string]any{
			"name":             name,
			"connectionName":   fmt.Sprintf("%s:%s:%s", project, r.String("region"), name),
			"privateIpAddress": "10.40.0.3",
			"serverCaCerts":    []any{map[string]any{"cert": MockCloudSQLCA}},
		}
	case "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig":
		id := r.Name + "-check-id"
		return map[string]any{"uptimeCheckId": id, "name": fmt.Sprintf("projects/%s/uptimeCheckConfigs/%s", project, id)}
	case "gcp:monitoring/notificationChannel:NotificationChannel":
		return map[string]any{"name": fmt.Sprintf("projects/%s/notificationChannels/%s-id", project, r.Name)}
	case "gcp:monitoring/alertPolicy:AlertPolicy":
		return map[string]any{"name": fmt.Sprintf("projects/%s/alertPolicies/%s-id", project, r.Name)}
	case "gcp:filestore/instance:Instance":
		nets, _ := r.Get("networks").([]any)
		if len(nets) > 0 {
			n, _ := nets[0].(map[string]any)
			copyNet := map[string]any{}
			for k, v := range n {
				copyNet[k] = v
			}
			copyNet["ipAddresses"] = []any{"10.200.0.2"}
			return map[string]any{"name": name, "networks": []any{copyNet}}
		}
	}
	return nil
}

// MockCloudSQLCA is the server CA the mocks report for a Cloud SQL instance.
const MockCloudSQLCA = "-----BEGIN CERTIFICATE-----\nmock-cloud-sql-server-ca\n-----END CERTIFICATE-----\n"

// plain converts a property map to plain Go values, unwrapping secrets and recording where
// they were; unknown values become nil.
func plain(m resource.PropertyMap) (map[string]any, []string) {
	var secrets []string
	var conv func(path string, v resource.PropertyValue) any
	conv = func(path string, v resource.PropertyValue) any {
		switch {
		case v.IsSecret():
			secrets = append(secrets, path)
			return conv(path, v.SecretValue().Element)
		case v.IsOutput():
			if v.OutputValue().Secret {
				secrets = append(secrets, path)
			}
			if !v.OutputValue().Known {
				return nil
			}
			return conv(path, v.OutputValue().Element)
		case v.IsComputed():
			return nil
		case v.IsObject():
			out := map[string]any{}
			for k, e := range v.ObjectValue() {
				out[string(k)] = conv(join(path, string(k)), e)
			}
			return out
		case v.IsArray():
			out := []any{}
			for i, e := range v.ArrayValue() {
				out = append(out, conv(join(path, fmt.Sprint(i)), e))
			}
			return out
		case v.IsResourceReference():
			return string(v.ResourceReferenceValue().URN)
		default:
			return v.Mappable()
		}
	}
	out := conv("", resource.NewObjectProperty(m)).(map[string]any)
	return out, secrets
}

func join(path, step string) string {
	if path == "" {
		return step
	}
	return path + "." + step
}

package platform

import (
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/nfs"
)

// storage creates the shared file storage. Its cloud resources wait only for the network, so
// they are built while GKE builds the cluster; only its Kubernetes objects wait for the cluster.
func (b *builder) storage() error {
	a := b.a.NFS
	a.Namespace = b.namespace
	if b.network != nil {
		a.NetworkName = b.network.NetworkName
		a.SubnetworkSelfLink = b.network.SubnetworkSelfLink
		if b.network.NAT != nil {
			a.After = append(a.After, b.network.NAT)
		}
	}
	if a.Backend == nfs.BackendInCluster || a.Backend == nfs.BackendFilestore {
		a.ServerNamespace = b.nfsNamespace
	}
	files, err := nfs.NewFileServer(b.ctx, b.child("nfs"), &a, b.withClouds()...)
	if err != nil {
		return err
	}
	b.claim = files.Claim
	return nil
}

// sharedVolumes are the mounts API Manager pods get from the file server's claim. They mount it
// through the claim's output: created after it and, since a claim in use cannot be deleted,
// destroyed before it (the end-to-end suite's destroy hung on exactly that before).
func (b *builder) sharedVolumes() []apim.SharedVolume {
	var out []apim.SharedVolume
	for _, sub := range kube.SortedKeys(SharedDirectories) {
		out = append(out, apim.SharedVolume{Claim: b.claim, SubPath: sub, Path: SharedDirectories[sub]})
	}
	return out
}

// Package nfs provides the shared ReadWriteMany storage all API Manager pods mount: an NFS
// file server on a VM (the 2019 article's single-node file server), on Filestore, or in the
// cluster; or a claim of an existing ReadWriteMany storage class. It ends in one
// PersistentVolumeClaim that workloads mount with a subPath per shared directory.
package nfs

// Package propagation makes a grant or an API enablement take effect before anything uses it:
// an after-create resource hook that waits, once, when the engine has just created the resource.
package propagation

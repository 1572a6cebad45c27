// Package keystores gives API Manager keys of its own instead of the ones every WSO2 image
// ships (whose private keys are public): a primary key that signs tokens, a TLS key for every
// listener, an internal key, and the CA certificate that the truststore trusts. They are made
// once per generation as PKCS12 stores in a Kubernetes Secret, kept across updates like the
// generated passwords, or taken from a Secret the user brings.
package keystores

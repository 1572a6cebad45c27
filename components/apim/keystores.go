package apim

import (
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/keystores"
	"github.com/wso2-k8s/apim-gke/components/kube"
)

// KeystoresScript builds, in $OUT_DIR, the stores API Manager reads (see StoreFiles) from the
// keystore Secret mounted at $IN_DIR: each store's one private key imported under WSO2's
// alias (so a user's stores may use any alias), and a truststore of the JDK's public CAs plus
// the CAs in $IN_DIR/ca.crt and $TRUSTED_DIR/*.pem. The image's default store names are
// overwritten with these, so no file of the server home holds WSO2's shipped keys, whose
// private keys are public. It refuses to finish when any store holds one of the certificates
// in $WSO2_DEFAULT_CERTS (SHA-256 fingerprints): a user's Secret copied from an image is
// caught before the server starts. It runs in the API Manager image (its keytool, its JDK's
// CA certificates) and takes every input from the environment.
const KeystoresScript = `set -eu
kt() { keytool -J-XX:-UsePerfData -J-Duser.language=en -J-Duser.country=US "$@"; }
fail() { echo "keystores: $*" >&2; exit 1; }
list() { kt -list -v -keystore "$1" -storetype PKCS12 -storepass:env KEYSTORE_PASSWORD; }

for store in primary tls internal; do
  src="$IN_DIR/$store.p12"
  [ -s "$src" ] || fail "$store.p12 is missing from the keystore Secret (it needs primary.p12, tls.p12, internal.p12, ca.crt and password)"
  listing=$(list "$src") || fail "$store.p12 does not open with the Secret's password"
  alias=$(printf '%s\n' "$listing" | awk '/^Alias name: /{a=substr($0, 13)} /^Entry type: PrivateKeyEntry/{print a}')
  if [ -z "$alias" ] || [ "$(printf '%s\n' "$alias" | wc -l)" -ne 1 ]; then
    fail "$store.p12 must hold exactly one private key; it holds $(printf '%s\n' "$alias" | grep -c .)"
  fi
  rm -f "$OUT_DIR/$store.p12"
  kt -importkeystore -noprompt -srckeystore "$src" -srcstoretype PKCS12 -srcstorepass:env KEYSTORE_PASSWORD \
    -srcalias "$alias" -destkeystore "$OUT_DIR/$store.p12" -deststoretype PKCS12 \
    -deststorepass:env KEYSTORE_PASSWORD -destalias "$store" >/dev/null
done

trust="$OUT_DIR/truststore.p12"
rm -f "$trust"
split="$OUT_DIR/.pem"
mkdir -p "$split"
# The JDK's store password is its public default, "changeit".
kt -importkeystore -noprompt -srckeystore "$JAVA_CACERTS" -srcstorepass changeit \
  -destkeystore "$trust" -deststoretype PKCS12 -deststorepass:env KEYSTORE_PASSWORD >/dev/null 2>&1 ||
  fail "cannot read the JDK's CA certificates at $JAVA_CACERTS"
# API keys and internal keys are signed with the primary key and checked against the
# truststore entry apim.devportal.api_key_alias and apim.publisher.key_alias name
# (gateway_certificate_alias by default): that entry is the primary certificate.
kt -exportcert -rfc -alias primary -keystore "$OUT_DIR/primary.p12" -storetype PKCS12 \
  -storepass:env KEYSTORE_PASSWORD -file "$split/primary.crt" >/dev/null
kt -importcert -noprompt -alias gateway_certificate_alias -file "$split/primary.crt" -keystore "$trust" \
  -storetype PKCS12 -storepass:env KEYSTORE_PASSWORD >/dev/null
n=0
for bundle in "$IN_DIR/ca.crt" "$TRUSTED_DIR"/*.pem; do
  [ -f "$bundle" ] || continue
  rm -f "$split"/*
  # keytool -importcert reads one certificate: one file each.
  awk -v dir="$split" '/-----BEGIN CERTIFICATE-----/{n++; f=sprintf("%s/%03d.pem", dir, n)} f{print > f} /-----END CERTIFICATE-----/{close(f); f=""}' "$bundle"
  for cert in "$split"/*.pem; do
    [ -f "$cert" ] || fail "$bundle holds no PEM certificate"
    n=$((n + 1))
    kt -importcert -noprompt -alias "trusted-$n" -file "$cert" -keystore "$trust" -storetype PKCS12 \
      -storepass:env KEYSTORE_PASSWORD >/dev/null || fail "cannot import a certificate of $bundle"
  done
done
rm -rf "$split"
[ "$n" -gt 0 ] || fail "ca.crt of the keystore Secret holds no certificate: the pods would not trust each other"

# Whatever still names WSO2's default stores gets these keys, never the public ones.
cp "$OUT_DIR/tls.p12" "$OUT_DIR/wso2carbon.jks"
cp "$trust" "$OUT_DIR/client-truststore.jks"

for f in "$OUT_DIR"/*.p12; do
  for fp in $(list "$f" | sed -n 's/^[[:space:]]*SHA256: //p' | tr -d ':' | tr 'A-F' 'a-f'); do
    case " $WSO2_DEFAULT_CERTS " in
      *" $fp "*) fail "$(basename "$f") holds a certificate that WSO2 ships in every image (SHA-256 $fp); its private key is public: use keys of your own" ;;
    esac
  done
done
echo "keystores: primary, tls and internal keys imported; truststore holds the JDK's CAs and $n of ours; no WSO2 default certificate"
`

// StoreFiles are the files KeystoresScript writes, as deployment.toml names them.
var StoreFiles = map[string]string{"primary": "primary.p12", "tls": "tls.p12", "internal": "internal.p12", "truststore": "truststore.p12"}

// WSO2DefaultCertificates are the SHA-256 fingerprints of the certificates WSO2 ships in
// the keystores and truststore of its 4.7.0 distributions whose private keys are public
// (tests/testdata/wso2/4.7.0/default-certificates.txt says where each comes from; a test
// holds the two equal).
var WSO2DefaultCertificates = []string{
	// CN=localhost, O=WSO2: wso2carbon.jks's key pair, and client-truststore.jks's
	// wso2carbon and gateway_certificate_alias entries.
	"ca5c9b54f9b6d39f396a1aaa7a780481393c1dfbb567cfacfb962e6a88ad6588",
}

// Volumes and paths of the keystores.
const (
	keystoresVolume = "keystores"
	securityVolume  = "security"
	trustedVolume   = "trusted-certs"
	// securityDir is where the image's entrypoint copies the built stores from, over the
	// server home's repository/resources/security.
	securityDir = configVolumeRoot + "/repository/resources/security"
	// TrustedCertsKey is the key of the extra CA bundle in the workload's ConfigMap.
	TrustedCertsKey = "trusted.pem"
	// KeystorePasswordEnv carries the stores' password into deployment.toml ($env{...}).
	KeystorePasswordEnv = "WSO2_KEYSTORE_PASSWORD"
)

// KeystoreResources: keytool is a JVM started a dozen times.
var KeystoreResources = kube.Resources{Requests: kube.Compute{CPU: "100m", Memory: "128Mi", EphemeralStorage: "16Mi"},
	Limits: kube.Compute{CPU: "1", Memory: "256Mi", EphemeralStorage: "64Mi"}}

// keystoresInit is the init container that runs KeystoresScript in the workload's image.
func keystoresInit(image string, sh Shared, trustedCM pulumi.StringInput) corev1.ContainerArgs {
	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String(keystoresVolume), MountPath: pulumi.String("/keystores"), ReadOnly: pulumi.Bool(true)},
		corev1.VolumeMountArgs{Name: pulumi.String(securityVolume), MountPath: pulumi.String("/security")},
	}
	if trustedCM != nil {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(trustedVolume), MountPath: pulumi.String("/trusted"), ReadOnly: pulumi.Bool(true)})
	}
	return corev1.ContainerArgs{
		Name:    pulumi.String("keystores"),
		Image:   pulumi.String(image),
		Command: pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(KeystoresScript)},
		Env: corev1.EnvVarArray{
			corev1.EnvVarArgs{Name: pulumi.String("IN_DIR"), Value: pulumi.String("/keystores")},
			corev1.EnvVarArgs{Name: pulumi.String("OUT_DIR"), Value: pulumi.String("/security")},
			corev1.EnvVarArgs{Name: pulumi.String("TRUSTED_DIR"), Value: pulumi.String("/trusted")},
			// The images' JDK (JAVA_HOME=/opt/java/openjdk in WSO2's Dockerfiles).
			corev1.EnvVarArgs{Name: pulumi.String("JAVA_CACERTS"), Value: pulumi.String("/opt/java/openjdk/lib/security/cacerts")},
			corev1.EnvVarArgs{Name: pulumi.String("WSO2_DEFAULT_CERTS"), Value: pulumi.String(strings.Join(WSO2DefaultCertificates, " "))},
			keystorePasswordEnv("KEYSTORE_PASSWORD", sh.Keystores),
		},
		SecurityContext: kube.ContainerSecurity(wso2UID, true),
		Resources:       KeystoreResources.Args(),
		VolumeMounts:    mounts,
	}
}

// keystoreVolumes are the Secret, the built stores' emptyDir and the extra CAs' ConfigMap.
func keystoreVolumes(sh Shared, trustedCM pulumi.StringInput) corev1.VolumeArray {
	v := corev1.VolumeArray{
		corev1.VolumeArgs{Name: pulumi.String(keystoresVolume), Secret: &corev1.SecretVolumeSourceArgs{
			SecretName: sh.Keystores, DefaultMode: pulumi.Int(0o440)}},
		corev1.VolumeArgs{Name: pulumi.String(securityVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("16Mi")}},
	}
	if trustedCM != nil {
		v = append(v, corev1.VolumeArgs{Name: pulumi.String(trustedVolume), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{
			Name: trustedCM, Items: corev1.KeyToPathArray{corev1.KeyToPathArgs{Key: pulumi.String(TrustedCertsKey), Path: pulumi.String("extra.pem")}}}})
	}
	return v
}

// trustedBundle is the PEM bundle of the CAs trusted besides the deployment's own: the
// caller's and the database server's. Nil when there are none.
func (s Shared) trustedBundle() pulumi.StringInput {
	var parts []any
	for _, c := range []pulumi.StringInput{s.TrustedCertificates, s.Database.ServerCA} {
		if c != nil {
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return pulumi.All(parts...).ApplyT(func(v []any) string {
		var b strings.Builder
		for _, p := range v {
			b.WriteString(strings.TrimSpace(p.(string)))
			b.WriteString("\n")
		}
		return b.String()
	}).(pulumi.StringOutput)
}

// keystorePasswordEnv reads the stores' password from the keystore Secret.
func keystorePasswordEnv(name string, secret pulumi.StringInput) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), ValueFrom: &corev1.EnvVarSourceArgs{
		SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: secret, Key: pulumi.String(keystores.KeyPassword)}}}
}

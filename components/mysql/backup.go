package mysql

import (
	"fmt"
	"regexp"
	"strings"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// BackupArgs is the scheduled logical backup of the in-cluster MySQL: a CronJob that dumps
// apim_db and shared_db, compressed and timestamped, to a claim of its own or, on GKE, to a
// Cloud Storage bucket through Workload Identity, and keeps the newest Keep dumps. The JSON
// names are the settings of a stack's `mysql.backup` key.
type BackupArgs struct {
	// Enabled schedules the backup. Defaults to true.
	Enabled *bool `json:"enabled"`
	// Schedule is a five-field cron expression, in UTC. Defaults to every 6 hours on the
	// hour ("0 */6 * * *"), so at most 6 hours of changes are lost with the volume.
	Schedule string `json:"schedule"`
	// Keep is how many of the newest dumps are kept; older ones are deleted after each
	// successful backup. Defaults to 28 (a week at the default schedule).
	Keep int `json:"keep"`
	// StorageSize of the backup claim, or of the scratch volume a dump is written to before
	// its upload to Bucket. Defaults to 10Gi.
	StorageSize string `json:"storageSize"`
	// StorageClass of the backup claim. Defaults to the cluster's default class.
	StorageClass string `json:"storageClass"`

	// Bucket is a Cloud Storage bucket's name: when set, dumps go there instead of to a
	// claim. The Platform sets it in mode incluster on GKE.
	Bucket pulumi.StringInput `json:"-"`
	// GoogleServiceAccount is the email of the Google service account the backup pods act as
	// through Workload Identity (required with Bucket); it needs write, list and delete on the
	// bucket's objects only.
	GoogleServiceAccount pulumi.StringInput `json:"-"`
}

// WithDefaults returns a copy of b with every empty setting replaced by its default.
func (b BackupArgs) WithDefaults() BackupArgs {
	if b.Enabled == nil {
		v := true
		b.Enabled = &v
	}
	if b.Schedule == "" {
		b.Schedule = "0 */6 * * *"
	}
	if b.Keep == 0 {
		b.Keep = 28
	}
	if b.StorageSize == "" {
		b.StorageSize = "10Gi"
	}
	return b
}

// cronRe is five fields of digits, ranges, lists, steps and *, or one of the @ shorthands.
var cronRe = regexp.MustCompile(`^((\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?)*\s+){4}(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?)*$|^@(hourly|daily|weekly|monthly|yearly|annually|midnight)$`)

// Validate checks defaulted args; key prefixes every message (e.g. "mysql.backup").
func (b BackupArgs) Validate(key string) validate.Problems {
	var p validate.Problems
	if !*b.Enabled {
		return p
	}
	k := func(name string) string { return validate.Key(key, name) }
	p.Matches(k("schedule"), strings.TrimSpace(b.Schedule), cronRe, `a five-field cron expression in UTC such as "0 */6 * * *"`)
	p.Between(k("keep"), b.Keep, 1, 1000)
	p.Quantity(k("storageSize"), b.StorageSize, "10Gi")
	return p
}

// The backup pods' labels.
const componentBackup = "database-backup"

// BackupResources are what the backup container requests and may use (its ephemeral storage
// limit grows to StorageSize when it writes a dump to scratch space before an upload).
var BackupResources = kube.Resources{Requests: kube.Compute{CPU: "100m", Memory: "128Mi", EphemeralStorage: "64Mi"},
	Limits: kube.Compute{CPU: "1", Memory: "512Mi", EphemeralStorage: "256Mi"}}

// BackupScript writes one dump and prunes old ones; the CronJob runs it, and so do the restore
// drill and its tests, unchanged. POSIX sh, with mysqldump (MySQL's or MariaDB's), gzip and,
// for a bucket, curl. Inputs come from the environment:
//
//	MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD  the server and an account that may dump
//	BACKUP_DATABASES  the databases, space-separated
//	BACKUP_DIR        where the dump is written (the claim, or scratch space before an upload)
//	BACKUP_KEEP       how many of the newest dumps to keep
//	BACKUP_PREFIX     file name prefix (default mysql): <prefix>-<UTC time>.sql.gz
//	BACKUP_BUCKET     optional: upload to this Cloud Storage bucket, prune there instead
//	GCS_ENDPOINT, METADATA_ENDPOINT  optional: where the Cloud Storage JSON API and the
//	                  metadata server (Workload Identity's tokens) are
//
// A dump counts only when it is complete: gzip verifies and its last line is mysqldump's
// "-- Dump completed" trailer (which mysqldump writes only when it succeeded); otherwise the
// script fails and nothing is pruned.
const BackupScript = `set -eu
: "${MYSQL_HOST:?}" "${MYSQL_USER:?}" "${MYSQL_PASSWORD:?}" "${BACKUP_DATABASES:?}" "${BACKUP_DIR:?}" "${BACKUP_KEEP:?}"
prefix="${BACKUP_PREFIX:-mysql}"
gcs="${GCS_ENDPOINT:-https://storage.googleapis.com}"
metadata="${METADATA_ENDPOINT:-http://169.254.169.254}"
start=$(date +%s)
name="$prefix-$(date -u +%Y%m%dT%H%M%SZ).sql.gz"
part="$BACKUP_DIR/.$name.part"
umask 077
cnf=$(mktemp "${TMPDIR:-/tmp}/backup-client.XXXXXX")
trap 'rm -f "$cnf" "$part"' EXIT
printf '[client]\npassword="%s"\n' "$MYSQL_PASSWORD" >"$cnf"
echo "backup: dumping $BACKUP_DATABASES from $MYSQL_HOST:${MYSQL_PORT:-3306}"
# shellcheck disable=SC2086 # one word per database
mysqldump --defaults-extra-file="$cnf" --protocol=TCP -h "$MYSQL_HOST" -P "${MYSQL_PORT:-3306}" -u "$MYSQL_USER" \
  --single-transaction --quick --routines --triggers --events --hex-blob --no-tablespaces \
  --databases $BACKUP_DATABASES | gzip -c >"$part"
if ! gzip -t "$part" || ! gzip -cd "$part" | tail -n 1 | grep -q '^-- Dump completed'; then
  echo "backup: the dump of $BACKUP_DATABASES is incomplete (no '-- Dump completed' trailer); keeping the older dumps" >&2
  exit 1
fi
size=$(wc -c <"$part" | tr -d ' ')
mv "$part" "$BACKUP_DIR/$name"

if [ -n "${BACKUP_BUCKET:-}" ]; then
  token=$(curl -fsS -H 'Metadata-Flavor: Google' "$metadata/computeMetadata/v1/instance/service-accounts/default/token" |
    sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
  if [ -z "$token" ]; then
    echo "backup: no access token from the metadata server (Workload Identity)" >&2
    exit 1
  fi
  auth="Authorization: Bearer $token"
  curl -fsS -o /dev/null -X POST -H "$auth" -H 'Content-Type: application/gzip' --data-binary @"$BACKUP_DIR/$name" \
    "$gcs/upload/storage/v1/b/$BACKUP_BUCKET/o?uploadType=media&name=$name"
  rm -f "$BACKUP_DIR/$name"
  where="gs://$BACKUP_BUCKET/$name"
  list() {
    # shellcheck disable=SC2020 # each of the three characters becomes a newline
    curl -fsS -H "$auth" "$gcs/storage/v1/b/$BACKUP_BUCKET/o?prefix=$prefix-&fields=items(name)" |
      tr ',{}' '\n\n\n' | sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p' | grep "^$prefix-.*\.sql\.gz$" | sort
  }
  remove() { curl -fsS -o /dev/null -X DELETE -H "$auth" "$gcs/storage/v1/b/$BACKUP_BUCKET/o/$1"; }
else
  where="$BACKUP_DIR/$name"
  list() {
    for f in "$BACKUP_DIR/$prefix"-*.sql.gz; do
      if [ -e "$f" ]; then basename "$f"; fi
    done | sort
  }
  remove() { rm -f "$BACKUP_DIR/$1"; }
fi
echo "backup: wrote $where ($size bytes compressed) in $(( $(date +%s) - start )) s"

all=$(list)
count=$(printf '%s\n' "$all" | grep -c . || true)
excess=$((count - BACKUP_KEEP))
if [ "$excess" -gt 0 ]; then
  printf '%s\n' "$all" | head -n "$excess" | while read -r old; do
    remove "$old"
    echo "backup: deleted $old (keeping the newest $BACKUP_KEEP)"
  done
fi
`

// backupName names the backup's objects.
func backupName(a Args) string { return a.Name + "-backup" }

// newBackup creates the backup's claim (or, with a bucket, its Kubernetes service account), its
// CronJob and its NetworkPolicy. secretName names the Secret holding the root password.
func newBackup(ctx *pulumi.Context, name string, a Args, secretName pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	b := a.Backup
	bname := backupName(a)
	labels := kube.Labels(bname, componentBackup, kube.ImageTag(a.Image), nil)
	meta := func(n string) *metav1.ObjectMetaArgs { return kube.Meta(n, a.Namespace, labels) }
	toBucket := b.Bucket != nil

	res := BackupResources
	var target corev1.VolumeArgs
	pod := &corev1.PodSpecArgs{
		SecurityContext:              kube.PodSecurity(uid),
		AutomountServiceAccountToken: pulumi.Bool(false),
		RestartPolicy:                pulumi.String("Never"),
	}
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("MYSQL_HOST"), Value: pulumi.String(a.Name)},
		corev1.EnvVarArgs{Name: pulumi.String("MYSQL_PORT"), Value: pulumi.String(fmt.Sprint(Port))},
		corev1.EnvVarArgs{Name: pulumi.String("MYSQL_USER"), Value: pulumi.String("root")},
		corev1.EnvVarArgs{Name: pulumi.String("MYSQL_PASSWORD"), ValueFrom: &corev1.EnvVarSourceArgs{
			SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: secretName, Key: pulumi.String("root-password")}}},
		corev1.EnvVarArgs{Name: pulumi.String("BACKUP_DATABASES"), Value: pulumi.String(APIMDatabase + " " + SharedDatabase)},
		corev1.EnvVarArgs{Name: pulumi.String("BACKUP_DIR"), Value: pulumi.String("/backups")},
		corev1.EnvVarArgs{Name: pulumi.String("BACKUP_KEEP"), Value: pulumi.String(fmt.Sprint(b.Keep))},
		corev1.EnvVarArgs{Name: pulumi.String("BACKUP_PREFIX"), Value: pulumi.String(a.Name)},
	}
	egress := []kube.Rule{{Peers: []kube.Peer{{Pods: Selector(a.Name)}}, Ports: kube.TCP(Port)}}
	if toBucket {
		// Workload Identity: the pods act as the Google service account the Kubernetes one is
		// bound to. The token is mounted: the account has no Kubernetes permissions.
		sa, err := corev1.NewServiceAccount(ctx, name+"-backup", &corev1.ServiceAccountArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(bname), Namespace: a.Namespace, Labels: pulumi.ToStringMap(labels),
				Annotations: pulumi.StringMap{"iam.gke.io/gcp-service-account": b.GoogleServiceAccount}},
			AutomountServiceAccountToken: pulumi.Bool(false),
		}, opts...)
		if err != nil {
			return err
		}
		pod.ServiceAccountName = sa.Metadata.Name().Elem()
		pod.AutomountServiceAccountToken = pulumi.Bool(true)
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("BACKUP_BUCKET"), Value: b.Bucket})
		// Scratch space for one dump before its upload, on the node's disk.
		res.Limits.EphemeralStorage = b.StorageSize
		target = corev1.VolumeArgs{Name: pulumi.String("backups"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String(b.StorageSize)}}
		egress = append(egress,
			// GKE's metadata server hands out Workload Identity's tokens: 169.254.169.254:80, and
			// 169.254.169.252:988 where Dataplane V2 serves it (GKE's Workload Identity docs).
			kube.Rule{Peers: []kube.Peer{{CIDR: "169.254.169.254/32"}}, Ports: kube.TCP(80)},
			kube.Rule{Peers: []kube.Peer{{CIDR: "169.254.169.252/32"}}, Ports: kube.TCP(988)},
			// Cloud Storage has no fixed address range.
			kube.Rule{Peers: []kube.Peer{{CIDR: "0.0.0.0/0"}}, Ports: kube.TCP(443)})
	} else {
		claim := &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
			Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(b.StorageSize)}},
		}
		if b.StorageClass != "" {
			claim.StorageClassName = pulumi.String(b.StorageClass)
		}
		// Protected like the database: the dumps are what is left when its volume is lost. No
		// pod uses the claim until the first scheduled run, so a WaitForFirstConsumer class
		// (GKE's) leaves it Pending for hours: nothing may wait for it to bind.
		pvcMeta := kube.Meta(bname, a.Namespace, kube.Labels(bname, componentBackup, "", nil))
		pvcMeta.Annotations = pulumi.StringMap{"pulumi.com/skipAwait": pulumi.String("true")}
		pvc, err := corev1.NewPersistentVolumeClaim(ctx, name+"-backup", &corev1.PersistentVolumeClaimArgs{
			Metadata: pvcMeta, Spec: claim,
		}, append(opts, pulumi.Protect(*a.Protect))...)
		if err != nil {
			return err
		}
		target = corev1.VolumeArgs{Name: pulumi.String("backups"),
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: pvc.Metadata.Name().Elem()}}
	}
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:            pulumi.String("backup"),
		Image:           pulumi.String(a.Image),
		Command:         pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(BackupScript)},
		Env:             env,
		Resources:       res.Args(),
		SecurityContext: kube.ContainerSecurity(uid, true),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String("backups"), MountPath: pulumi.String("/backups")},
			corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
		},
	}}
	pod.Volumes = corev1.VolumeArray{target,
		corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{Medium: pulumi.String("Memory"), SizeLimit: pulumi.String("1Mi")}}}

	if _, err := batchv1.NewCronJob(ctx, name+"-backup", &batchv1.CronJobArgs{
		Metadata: meta(bname),
		Spec: &batchv1.CronJobSpecArgs{
			Schedule: pulumi.String(b.Schedule),
			TimeZone: pulumi.String("Etc/UTC"),
			// One dump at a time; a missed run (cluster down) starts within the hour after.
			ConcurrencyPolicy:          pulumi.String("Forbid"),
			StartingDeadlineSeconds:    pulumi.Int(3600),
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(3),
			JobTemplate: batchv1.JobTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: batchv1.JobSpecArgs{
					BackoffLimit:          pulumi.Int(2),
					ActiveDeadlineSeconds: pulumi.Int(3600),
					Template: corev1.PodTemplateSpecArgs{
						Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
						Spec:     pod,
					},
				},
			},
		},
	}, opts...); err != nil {
		return err
	}
	return kube.NewPolicy(ctx, name+"-backup", meta(bname), kube.Selector(bname, componentBackup), nil, egress, opts...)
}

// backupClients are the backup pods, which MySQL admits on 3306.
func backupClients(a Args) []kube.Peer {
	if !*a.Backup.Enabled {
		return nil
	}
	return []kube.Peer{{Pods: kube.Selector(backupName(a), componentBackup)}}
}

#!/bin/sh
# contrib/kubernetes (issue 19): every resource of its kustomization passes
# kubernetes-models' schemas and the CronJob the rules the issue sets
# (check.mjs), and its ConfigMap's settings load with pgbak-run -n, the
# password from the Secret's variable.  The twins: a manifest with a schema
# error, or one that breaks a rule, is refused, and so are settings with a
# misspelt key or without the Secret's variable.  make k8s-check installs
# check.mjs' packages (npm ci) and runs this.
. "$(dirname "$0")/../lib.sh"
command -v node >/dev/null || skip_all "node not installed"
K=$SRC_DIR/contrib/kubernetes
CHECK=$K/test/check.mjs
[ -d "$K/test/node_modules/kubernetes-models" ] ||
	skip_all "no contrib/kubernetes/test/node_modules (make k8s-check installs it)"
plan 24

out=$(node "$CHECK" validate "$K" 2>&1)
ok $? "check.mjs accepts contrib/kubernetes"
nres=$(sed -n '/^resources:/,/^[^ ]/p' "$K/kustomization.yaml" | grep -c '^  - ')
is "$(printf '%s\n' "$out" | grep -c ': valid$')" "$nres" "... all $nres resources of kustomization.yaml valid"

# broken NAME FILE SED: a copy of contrib/kubernetes in $T/NAME with SED
# applied to FILE (which must change), then check.mjs on it: $out, $rc.
broken() {
	rm -rf "$T/$1" && mkdir "$T/$1" && cp "$K"/*.yaml "$T/$1/"
	sed -i "$3" "$T/$1/$2"
	cmp -s "$K/$2" "$T/$1/$2" && { out="sed changed nothing in $2"; rc=0; return; }
	out=$(node "$CHECK" validate "$T/$1" 2>&1); rc=$?
}
# refused DESC PATTERN: the last broken copy was refused saying PATTERN.
refused() {
	is "$rc" 1 "$1: refused"
	like "$out" "$2" "... saying so"
}

broken type cronjob.yaml 's/backoffLimit: 2$/backoffLimit: two/'
refused "a schema error (backoffLimit: two)" "backoffLimit must be integer"
broken enum cronjob.yaml 's/concurrencyPolicy: Forbid/concurrencyPolicy: Sometimes/'
refused "a value outside the schema's enum" "concurrencyPolicy must be equal to one of the allowed values"
broken kind cronjob.yaml 's/^kind: CronJob/kind: CronJobs/'
refused "an unknown kind" "unknown apiVersion/kind batch/v1/CronJobs"
broken allow cronjob.yaml 's/concurrencyPolicy: Forbid/concurrencyPolicy: Allow/'
refused "concurrencyPolicy: Allow" "concurrencyPolicy is not Forbid"
broken rw cronjob.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/'
refused "a writable root filesystem" "readOnlyRootFilesystem is not true"
broken tmp configmap.yaml 's|temp_dir: /tmp|temp_dir: /var/tmp|'
refused "temp_dir outside the emptyDir" "temp_dir /var/tmp is not a writable emptyDir mount"
broken irsa serviceaccount.yaml '/eks.amazonaws.com\/role-arn/d'
refused "a ServiceAccount without IRSA's annotation" "has no IRSA role-arn annotation"

node "$CHECK" settings "$K" >"$T/settings.yml"
ok $? "check.mjs extracts the ConfigMap's settings.yml"
day=$(date +%Y%m%d)
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY PGBAK_DB_PASSWORD=k8s-s3cret \
	pgbak-run -n "$T/settings.yml" 2>&1)
ok $? "pgbak-run -n loads them, the password from the Secret's variable"
like "$out" "^backups/postgres/appdb/appdb-$day\.gz:" "... and names the day's key"
unlike "$out" "k8s-s3cret" "... never the password"

out=$(env -u PGBAK_DB_PASSWORD pgbak-run -n "$T/settings.yml" 2>&1)
is $? 100 "without the Secret's variable they are refused (exit 100)"
like "$out" "PGBAK_DB_PASSWORD is not set" "... naming it"
sed 's/^\( *\)region:/\1regoin:/' "$T/settings.yml" >"$T/typo.yml"
out=$(PGBAK_DB_PASSWORD=x pgbak-run -n "$T/typo.yml" 2>&1)
is $? 100 "settings with a misspelt key are refused (exit 100)"
like "$out" 'unknown key "regoin"' "... naming it"

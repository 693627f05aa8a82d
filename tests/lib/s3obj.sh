# tests/lib/s3obj.sh: what the S3 program tests (02xx) ask the test RGW
# through awsref, the independent client.  Source after need_s3.

# absent KEY: true when KEY does not exist in $PGBAK_BUCKET.
absent() { ! awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "$1" >/dev/null 2>&1; }

# uploads KEY: the ids of multipart uploads in progress for exactly KEY.
uploads() {
	awsref s3api list-multipart-uploads --bucket "$PGBAK_BUCKET" --prefix "$1" \
		--query "Uploads[?Key=='$1'].UploadId" --output text | grep -v '^None$'
}

# wait_upload KEY: until a multipart upload of KEY is in progress (10 s at most).
wait_upload() {
	_i=0
	while [ -z "$(uploads "$1")" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -n "$(uploads "$1")" ]
}

# same KEY FILE: pgbak-get KEY gives exactly FILE's bytes.
same() { pgbak-get "$1" | cmp -s - "$2"; }

# count KIND ACTION: requests of KIND the proxy logged with ACTION.
count() { grep -c "^$1 [0-9]* $2\$" "$PROXY_LOG"; }
# put_via RULE... -- KEY FILE: pgbak-put through a proxy with those rules
# (tests/lib/s3-proxy.py), 5 MiB parts, 2 in flight; stderr in $T/err.
put_via() {
	rules=
	while [ "$1" != -- ]; do rules="$rules --rule $1"; shift; done
	shift
	start_proxy $rules
	run pgbak-put --part-size 5MiB --parallel 2 -e "$PROXY_URL" "$1" <"$2" 2>"$T/err"
}

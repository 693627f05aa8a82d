# bench/netns.sh: case 7, an upload across a 50 ms round trip, and case 8c,
# a download (sourced by bench/lib.sh when BENCH_NETNS=1).
#
# The issue's way: a network namespace of our own whose loopback delays
# every packet by 25 ms (netem), so a round trip takes 50 ms, with
# bench/nsrelay.py listening on that loopback and carrying each connection
# on to the RGW on the host's 127.0.0.1; the clients run inside the
# namespace.  Nothing in the host's namespace is configured.
# A kernel without sch_netem (this VM's: "Specified qdisc kind is unknown")
# gets the fallback: nsrelay.py on the host's 127.0.0.1 delays the bytes
# itself, 25 ms each way, at most 4 MiB held per direction (one TCP
# window).  The result's note says which was used.  netns_down (also run by
# cleanup) kills the relay and deletes the namespace.

NETNS=pgbak-bench-$$		# $$ is bench/run's pid in its subshells too
NETNS_DELAY_MS=${BENCH_NETNS_DELAY_MS:-25}

# netns_up: start the path; sets NS_EXEC (the prefix that runs a client on
# it), NS_EP (the endpoint the clients use) and NS_HOW.
netns_up() {
	[ "$(id -u)" -eq 0 ] || { echo "case 7 needs root for ip netns" >&2; return 1; }
	ns=- NS_EXEC= port=0
	if ip netns add "$NETNS" && ip -n "$NETNS" link set lo up &&
		ip netns exec "$NETNS" tc qdisc add dev lo root netem \
			delay "${NETNS_DELAY_MS}ms" limit 100000 2>"$W/netem.err"; then
		ns=$NETNS NS_EXEC="ip netns exec $NETNS" port=8000
		NS_HOW="netem delay ${NETNS_DELAY_MS}ms on the loopback of netns $NETNS"
	else
		[ -e "/var/run/netns/$NETNS" ] && ip netns del "$NETNS"
		NS_HOW="no netem in this kernel ($(head -n 1 "$W/netem.err" 2>/dev/null));"
		NS_HOW="$NS_HOW bench/nsrelay.py delays ${NETNS_DELAY_MS} ms each way, 4 MiB window"
		set -- "$NETNS_DELAY_MS"
	fi
	rm -f "$W/relay.port"
	"$PY" "$BENCH_DIR/nsrelay.py" "$ns" $port "${EP##*:}" "$W/relay.port" "$@" \
		</dev/null 2>"$W/relay.err" &
	echo $! >"$W/relay.pid"
	i=0
	while [ ! -s "$W/relay.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$W/relay.port" ] || { echo "nsrelay did not start: $(cat "$W/relay.err")" >&2; return 1; }
	NS_EP=http://127.0.0.1:$(cat "$W/relay.port")
}

# netns_down: kill the relay and delete the namespace, if there are any.
netns_down() {
	if [ -s "$W/relay.pid" ]; then
		kill "$(cat "$W/relay.pid")" 2>/dev/null
		rm -f "$W/relay.pid"
	fi
	[ -e "/var/run/netns/$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
	return 0
}

# netns_case TITLE: both uploads of 1 GiB from a file, across the path.
netns_case() {
	netns_up || { netns_down; return 1; }
	echo "$NS_HOW"
	# one HTTP request on a new connection: two round trips, handshake and reply
	rt=$($NS_EXEC curl -s -o /dev/null -m 10 -w '%{time_total}' "$NS_EP/")
	echo "GET / through it: ${rt:-?} s"
	"$PY" "$BENCH_DIR/bench.py" gen $GIB >"$W/rand-1g" || { netns_down; return 1; }
	bench measure --out "$W/g7.json" --runs "$BENCH_RUNS" --prepare "$PREP" \
		--cmd "pgbak-put=exec $NS_EXEC $(q "$B/pgbak-put") -e $NS_EP bench/ns-1g <$(q "$W/rand-1g")" \
		--cmd "aws-cp=exec $NS_EXEC $AWS --endpoint-url $NS_EP s3 cp - s3://$PGBAK_BUCKET/bench/ns-aws-1g --only-show-errors <$(q "$W/rand-1g")"
	st=$?
	rm -f "$W/rand-1g"
	netns_down
	[ $st -eq 0 ] || return 1
	bench verdict --case 7 --title "$1 (wall)" --metric time \
		--subject "$W/g7.json:pgbak-put" --baseline "$W/g7.json:aws-cp" --le 0.8 \
		--note "$NS_HOW; GET / on a new connection ${rt:-?} s"
	cpu_info 7c g7 pgbak-put aws-cp
}

# netns_get_case TITLE: both downloads of bench/get-1g (case 8 stored it),
# to /dev/null, across the path.
netns_get_case() {
	netns_up || { netns_down; return 1; }
	echo "$NS_HOW"
	bench measure --out "$W/g8n.json" --runs "$BENCH_RUNS" \
		--cmd "pgbak-get=exec $NS_EXEC $(q "$B/pgbak-get") -e $NS_EP bench/get-1g >/dev/null" \
		--cmd "pgbak-get-p8=exec $NS_EXEC $(q "$B/pgbak-get") -p 8 -e $NS_EP bench/get-1g >/dev/null" \
		--cmd "aws-cp=exec $NS_EXEC $AWS --endpoint-url $NS_EP s3 cp s3://$PGBAK_BUCKET/bench/get-1g - --only-show-errors >/dev/null"
	st=$?
	netns_down
	[ $st -eq 0 ] || return 1
	bench verdict --case 8c --title "$1 (wall)" --metric time \
		--subject "$W/g8n.json:pgbak-get" --baseline "$W/g8n.json:aws-cp" --le 0.5 \
		--note "$NS_HOW"
	bench verdict --case 8d --title "pgbak-get peak RSS at 50 ms RTT (target in KiB)" \
		--metric rss --subject "$W/g8n.json:pgbak-get" --le 65536
	bench verdict --case 8e --title "  pgbak-get -p 8 / aws s3 cp at 50 ms RTT (wall)" --metric time \
		--subject "$W/g8n.json:pgbak-get-p8" --baseline "$W/g8n.json:aws-cp"
	cpu_info 8f g8n pgbak-get aws-cp
}

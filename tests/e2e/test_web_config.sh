#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# web_config: TLS and basic auth on the HTTP server, as Prometheus's web-config.yml. A real
# Prometheus scrapes /metrics over TLS with basic auth (up = 1, the counts arrive); a wrong
# password and none are refused with 401 (the second scrape job is down for it); a reload
# takes a changed password; a bad web config is refused naming file:line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# A self-signed certificate for 127.0.0.1, and bcrypt hashes (libxcrypt, through python3).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/server.key" -out "$TMP/server.crt" \
	>"$TMP/openssl.log" 2>&1 || { not_ok "openssl makes a certificate"; exit 1; }
bcrypt() {
	python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**6)))' "$1"
}
HASH1=$(bcrypt right-horse) && [ "${HASH1:0:4}" = '$2b$' ] || { not_ok "python3 makes a bcrypt hash"; exit 1; }
cat >"$TMP/web.yml" <<EOF2
# relative paths: from this file's directory
tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  prom: '$HASH1'
EOF2
{
	base_config
	cat <<'EOF2'
web_config = web.yml
[group kp]
prefix = 175.45.176.0/22
EOF2
} >"$TMP/pw.ini"
check "prefixwatch check accepts the config" "$PW" check -c "$TMP/pw.ini"

URL=https://127.0.0.1:$PORT
# code PATH [CURL ARGS...]: the HTTP status of GET PATH over TLS, the certificate checked.
code() {
	local p=$1
	shift
	in_rtr curl -s -o /dev/null -w '%{http_code}' --cacert "$TMP/server.crt" "$@" "$URL$p"
}
nsenter --net="/run/netns/$NS_RTR" "$PW" run -c "$TMP/pw.ini" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DAEMON_PID=$!
for _ in $(seq 100); do
	[ "$(code /metrics -u prom:right-horse)" = 200 ] && break
	sleep 0.1
done
eq "/metrics over TLS with the right password" "$(code /metrics -u prom:right-horse)" 200
check "the daemon says it serves https with basic auth" \
	grep -q "serving the status page and metrics on https://127.0.0.1:$PORT/ with basic auth" "$TMP/daemon.err"
eq "a wrong password is refused" "$(code /metrics -u prom:wrong-horse)" 401
eq "an unknown user is refused" "$(code /metrics -u other:right-horse)" 401
eq "no password is refused" "$(code /metrics)" 401
eq "the status page asks for it too" "$(code /)" 401
eq "the status API with the password" "$(code /api/v1/status -u prom:right-horse)" 200
check "401 comes with a Basic challenge" bash -c \
	"ip netns exec $NS_RTR curl -s -D - -o /dev/null --cacert $TMP/server.crt $URL/metrics | grep -qi '^WWW-Authenticate: Basic realm=\"prefixwatch\"'"
eq "plain HTTP gets no HTTP answer" \
	"$(in_rtr curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")" 000
check "prefixwatch status says it cannot speak TLS" bash -c \
	"ip netns exec $NS_RTR $PW status -l 127.0.0.1:$PORT 2>$TMP/st.err; [ \$? = 1 ] && grep -q 'is it TLS' $TMP/st.err"
send <<'EOF2'
0 1 321 ipv4 175.45.176.1 100
EOF2

PROM=127.0.0.1:$((PORT + 1))
cat >"$TMP/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prefixwatch
    scheme: https
    tls_config:
      ca_file: $TMP/server.crt
    basic_auth:
      username: prom
      password: right-horse
    static_configs:
      - targets: ['127.0.0.1:$PORT']
  - job_name: wrong
    scheme: https
    tls_config:
      ca_file: $TMP/server.crt
    basic_auth:
      username: prom
      password: wrong-horse
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF2
check "promtool check config" promtool check config "$TMP/prometheus.yml"
prom_start "$NS_RTR" "$PROM" "$TMP/prometheus.yml" prometheus || { not_ok "Prometheus starts"; exit 1; }
eq "Prometheus scrapes over TLS with basic auth: the counts arrive" \
	"$(prom_wait "$NS_RTR" "$PROM" 'prefixwatch_group_packets_total{group="kp",job="prefixwatch"}' 321)" 321
eq "that target is up" "$(prom_query "$NS_RTR" "$PROM" 'up{job="prefixwatch"}')" 1
eq "the target with a wrong password is down" "$(prom_wait "$NS_RTR" "$PROM" 'up{job="wrong"}' 0)" 0
check "Prometheus says why: 401" bash -c \
	"ip netns exec $NS_RTR curl -sf http://$PROM/api/v1/targets | python3 -c '
import json, sys
t = [x for x in json.load(sys.stdin)[\"data\"][\"activeTargets\"] if x[\"labels\"][\"job\"] == \"wrong\"]
sys.exit(not (t and \"401\" in t[0][\"lastError\"]))'"

# A reload takes a new password: the old one is refused from then on.
HASH2=$(bcrypt new-horse)
sed -i "s|  prom: .*|  prom: '$HASH2'|" "$TMP/web.yml"
kill -HUP "$DAEMON_PID"
for _ in $(seq 100); do grep -q "info: reloaded" "$TMP/daemon.err" && break; sleep 0.1; done
check "the reload is done" grep -q "info: reloaded" "$TMP/daemon.err"
for _ in $(seq 100); do
	[ "$(code /metrics -u prom:new-horse)" = 200 ] && break
	sleep 0.1
done
eq "after the reload the new password is taken" "$(code /metrics -u prom:new-horse)" 200
eq "and the old one refused" "$(code /metrics -u prom:right-horse)" 401

# A bad web config: refused by check, by run, and by a reload (which keeps the old one).
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prom: plaintext\n' >"$TMP/bad.yml"
sed 's/^web_config = .*/web_config = bad.yml/' "$TMP/pw.ini" >"$TMP/bad.ini"
"$PW" check -c "$TMP/bad.ini" >"$TMP/bad.out" 2>&1
eq "check refuses a bad web config with exit 2" "$?" 2
check "naming file:line" grep -qF "$TMP/bad.yml:5: basic_auth_users: the password of 'prom' is not a bcrypt hash" "$TMP/bad.out"
cp "$TMP/bad.ini" "$TMP/pw.ini"
kill -HUP "$DAEMON_PID"
for _ in $(seq 100); do grep -q "reload refused" "$TMP/daemon.err" && break; sleep 0.1; done
check "a reload to it is refused" grep -q "reload refused, keeping the running config: $TMP/bad.yml:5:" "$TMP/daemon.err"
eq "and the running web config stays" "$(code /metrics -u prom:new-horse)" 200
check "SIGTERM: clean exit 0" stop_daemon
[ "$TAP_FAILED" = 0 ]

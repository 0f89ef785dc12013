# shellcheck shell=bash
# Secured mode of the test broker (CAPI_KAFKA_SECURED=1 test/kafka/start.sh).
# Sourced by lib.sh, never run. Adds a second listener, SASL_SSL on its own
# port, next to the PLAINTEXT one:
#   - TLS with a throwaway CA made at start (test/pki), broker certificate for
#     localhost and 127.0.0.1;
#   - SASL SCRAM-SHA-512, users created at format time (--add-scram);
#   - SASL OAUTHBEARER validated the production way: Kafka's
#     OAuthBearerValidatorCallbackHandler checks RS256 JWTs against the JWKS of
#     a local OIDC token endpoint (test/oidc) that start.sh runs;
#   - StandardAuthorizer: the SASL principals have no rights but the ACLs the
#     tests grant. The PLAINTEXT listener's ANONYMOUS principal is a super user:
#     it is the suite's admin connection (topics, ACLs), on loopback only;
#   - connections.max.reauth.ms (10 s), so that KIP-368 re-authentication
#     happens every 10 s, or sooner when a token expires.
# Everything a test needs is written to $dir/secured.env (mode 600): the
# SASL_SSL address, the CA files, users, passwords and OAuth clients.

SECURED_TOKEN_TTL="${CAPI_KAFKA_OIDC_TOKEN_TTL:-8s}"
SECURED_REAUTH_MS="${CAPI_KAFKA_REAUTH_MS:-10000}"

random_secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

# oidc_alive is true only if the pid is our OIDC server (its command line
# names this broker directory).
oidc_alive() { runs_as "$1" "$2/bin/oidc"; }

stop_oidc() { # pid dir
	oidc_alive "$1" "$2" || return 0
	kill -TERM "$1" 2>/dev/null || true
	wait_reaped "$1"
}

# setup_secured builds the helpers, makes the PKI, starts the OIDC server and
# adds the secured listener to server.properties. Sets SECURED_PORT, OIDC_PID
# and FORMAT_ARGS (the SCRAM users).
setup_secured() { # dir port controller_port
	local dir=$1 port=$2 cport=$3 root
	root=$(cd "$here/../.." && pwd)
	command -v go >/dev/null 2>&1 || die "secured mode needs Go on PATH (to build test/oidc and test/pki)"
	mkdir -p "$dir/bin" "$dir/tls"
	if ! (cd "$root" && CGO_ENABLED=0 go build -o "$dir/bin/" ./test/oidc ./test/pki) \
		</dev/null >"$dir/logs/build.log" 2>&1 9<&-; then
		cat "$dir/logs/build.log" >&2
		die "building test/oidc and test/pki failed"
	fi
	"$dir/bin/pki" -dir "$dir/tls" 9<&- || die "test/pki failed"

	local scram_pw oauth_secret badaud_secret
	scram_pw=$(random_secret)
	oauth_secret=$(random_secret)
	badaud_secret=$(random_secret)
	(
		umask 077
		printf 'capi-oauth %s kafka\ncapi-badaud %s not-kafka\n' "$oauth_secret" "$badaud_secret" >"$dir/config/oidc-clients"
	)
	rm -f "$dir/oidc.addr"
	local i
	OIDC_PID=$(launch_detached "$dir" "$dir/oidc.pid" "$dir/logs/oidc.log" \
		"$dir/bin/oidc" -listen 127.0.0.1:0 -addr-file "$dir/oidc.addr" \
		-clients "$dir/config/oidc-clients" -ttl "$SECURED_TOKEN_TTL") || OIDC_PID=""
	for ((i = 0; i < 100; i++)); do
		[[ -z $OIDC_PID || -s $dir/oidc.addr ]] && break
		sleep 0.1
	done
	[[ -n $OIDC_PID && -s $dir/oidc.addr ]] || {
		cat "$dir/logs/oidc.log" >&2
		die "the OIDC server did not start"
	}
	local oidc
	oidc="http://$(cat "$dir/oidc.addr")"

	SECURED_PORT=$(pick_free_port "$port")
	while [[ $SECURED_PORT == "$cport" ]]; do SECURED_PORT=$(pick_free_port "$port"); done
	sed -i \
		-e "s|^listeners=.*|listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_SSL://127.0.0.1:$SECURED_PORT|" \
		-e "s|^advertised.listeners=.*|advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$SECURED_PORT|" \
		-e "s|^listener.security.protocol.map=.*|listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL|" \
		"$dir/config/server.properties"
	cat >>"$dir/config/server.properties" <<EOF
# ---- Secured mode (CAPI_KAFKA_SECURED=1): SASL_SSL listener, ACLs.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:ANONYMOUS
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$dir/tls/broker.pem
listener.name.sasl_ssl.ssl.client.auth=none
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
sasl.oauthbearer.jwks.endpoint.url=$oidc/jwks
sasl.oauthbearer.expected.audience=kafka
sasl.oauthbearer.expected.issuer=$oidc
connections.max.reauth.ms=$SECURED_REAUTH_MS
EOF
	# Kafka 4 fetches OAUTHBEARER URLs only when this JVM property allows them.
	printf '%s\n' "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=$oidc/jwks,$oidc/token" >"$dir/config/jvm.opts"
	FORMAT_ARGS=(--add-scram "SCRAM-SHA-512=[name=capi,password=$scram_pw]")
	(
		umask 077
		cat >"$dir/secured.env" <<EOF
SECURED_BROKERS=127.0.0.1:$SECURED_PORT
CA_FILE=$dir/tls/ca.pem
OTHER_CA_FILE=$dir/tls/other-ca.pem
SCRAM_MECHANISM=SCRAM-SHA-512
SCRAM_USER=capi
SCRAM_PASSWORD=$scram_pw
OIDC_URL=$oidc
TOKEN_URL=$oidc/token
OAUTH_CLIENT_ID=capi-oauth
OAUTH_CLIENT_SECRET=$oauth_secret
BAD_AUDIENCE_CLIENT_ID=capi-badaud
BAD_AUDIENCE_CLIENT_SECRET=$badaud_secret
TOKEN_TTL=$SECURED_TOKEN_TTL
REAUTH_MS=$SECURED_REAUTH_MS
EOF
	)
}
